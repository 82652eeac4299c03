"""Analytic predictions for a scenario, from the scenario alone (never from simulated results).

`predict(scenario)` propagates the clients' read and write rates along the call links
(`load`), predicts each cache's hit ratio, fits a queueing model to every pool of workers
(`pools`, `timing`), and derives replica staleness and failover figures (`replicas`), topic
lags (`topics`), deliveries per message and dead letters (`delivery`), links with payloads
and protocols (`links`), the saturation point (`saturation`), availability
(`availability`) and mean end-to-end latency; `assembly` puts them together.
Each number names the model it comes from (the formulas live in `simulations.theory`);
approximations say so. The report prints these beside the simulated values, so that each
checks the other.
"""

from .assembly import predict

__all__ = ["predict"]
