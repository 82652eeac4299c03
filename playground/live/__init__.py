"""Live runs over websockets (docs/protocol.md): the play socket (consumers), the run driver
(runs), where runs go (runners: this process, or simworker processes placed by
simscheduler), what a viewer has in flight (sendwindow), the messages (protocol), the runs'
shared state in Redis (runstore), socket quotas and the origin check."""
