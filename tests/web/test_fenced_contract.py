"""Every private or undocumented name playground/fenced/ reaches (fenced/contract.py) is still
in the release it was written for, and the releases installed are those pins: on an upgrade
that moves one, these fail naming the name and the pinned release. Below, the shapes the
Channels and channels_redis parts assume (Daphne's: test_fenced_daphne.py)."""

import asyncio
import inspect
import re
from pathlib import Path

import channels.consumer
import channels.layers
import channels_redis.core
import channels_redis.pubsub as pubsub
import channels_redis.utils
import pytest
from django.core import checks

from playground.fenced import contract

ROOT = Path(__file__).resolve().parents[2]


def params(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_requirements_pin_exactly_the_releases_the_fence_was_written_for():
    text = (ROOT / "requirements.txt").read_text()
    for dist, pin in contract.WRITTEN_FOR.items():
        found = re.search(rf"^{re.escape(dist)}==(\S+)$", text, re.M | re.I)
        assert found, f"requirements.txt must pin {dist} exactly: playground/fenced/ reaches in"
        assert found[1] == pin, f"requirements.txt pins {dist} {found[1]}, the fence {pin}"


def test_the_installed_releases_are_the_pins():
    assert contract.version_problems() == []


@pytest.mark.parametrize("reach", contract.REACHES, ids=str)
def test_each_private_name_is_still_there(reach):
    assert contract.present(reach), (
        f"{reach} is gone from {reach.distribution} {contract.installed(reach.distribution)} "
        f"(playground/fenced/{reach.by}.py was written for "
        f"{reach.distribution} {contract.WRITTEN_FOR[reach.distribution]})")


def test_every_fenced_module_is_named_in_the_contract():
    fenced = {p.stem for p in (ROOT / "playground" / "fenced").glob("*.py")}
    assert {reach.by for reach in contract.REACHES} == fenced - {"__init__", "contract"}


def test_the_start_up_check_names_a_moved_release_and_a_missing_name(monkeypatch):
    assert [e for e in checks.run_checks() if e.id in ("playground.E002",
                                                        "playground.E003")] == []
    monkeypatch.setitem(contract.WRITTEN_FOR, "channels", "0.1")
    gone = contract.Reach("channels", "channels.layers:InMemoryChannelLayer", "_gone", "layers")
    monkeypatch.setattr(contract, "REACHES", (*contract.REACHES, gone))
    found = {e.id: e for e in checks.run_checks() if e.id.startswith("playground.E00")}
    assert found["playground.E002"].level == checks.ERROR
    assert "channels 4.3.2 is installed" in found["playground.E002"].msg
    assert "written for channels 0.1" in found["playground.E002"].msg
    message = found["playground.E003"].msg
    assert "channels.layers.InMemoryChannelLayer._gone is gone from channels 4.3.2" in message
    assert "playground/fenced/layers.py" in message


def test_a_missing_module_is_a_problem_not_a_crash():
    assert not contract.present(contract.Reach("channels", "channels.nowhere:X", "y", "layers"))


# -- Channels (fenced/consumer.py, fenced/layers.py) ---------------------------------------
def test_channels_sets_the_layer_receive_by_assignment_and_awaits_it():
    source = inspect.getsource(channels.consumer.AsyncConsumer.__call__)
    assert "self.channel_receive = functools.partial(" in source
    assert "[receive, self.channel_receive], self.dispatch" in source


def test_channels_dispatch_is_the_handler_lookup_the_play_socket_skips():
    source = inspect.getsource(channels.consumer.AsyncConsumer.dispatch)
    assert "getattr(self, get_handler_name(message), None)" in source
    assert "await aclose_old_connections()" in source
    assert channels.consumer.get_handler_name({"type": "run.message"}) == "run_message"


def test_channels_in_memory_layer_sweeps_and_queues_as_assumed():
    layer = channels.layers.InMemoryChannelLayer
    assert params(layer._clean_expired) == ["self"]
    assert "self.channels.setdefault(" in inspect.getsource(layer.send)
    assert "self.groups = {}" in inspect.getsource(layer.__init__)


# -- channels_redis (fenced/layers.py) -----------------------------------------------------
def test_channels_redis_core_receive_pops_in_a_loop_and_backs_up_what_it_takes():
    """CoreRedisLayer raises a swallowed cancellation after each pop: the receive's loop
    pops through _brpop_with_clean until a message comes, and a message popped is kept in
    a backup queue that the next receive puts back, so raising after the pop loses none."""
    core = channels_redis.core.RedisChannelLayer
    assert params(core._brpop_with_clean) == ["self", "index", "channel", "timeout"]
    loop = inspect.getsource(core.receive_single)
    assert "while content is None:" in loop and "await self._brpop_with_clean(" in loop
    pop = inspect.getsource(core._brpop_with_clean)
    assert "await connection.eval(cleanup_script, 0, channel, backup_queue)" in pop
    assert "await connection.zadd(backup_queue" in pop


def test_channels_redis_makes_one_loop_layer_per_event_loop():
    source = inspect.getsource(pubsub.RedisPubSubChannelLayer._get_layer)
    assert "self._layers[loop] = layer" in source and "_wrap_close(self, loop)" in source
    assert params(channels_redis.utils._wrap_close) == ["proxy", "loop"]
    assert params(channels_redis.utils.create_pool) == ["host"]


def test_channels_redis_loop_layer_has_the_shards_and_queues_assumed():
    loop_layer = pubsub.RedisPubSubLoopLayer
    assert "RedisSingleShardConnection(host, self) for host in" in \
        inspect.getsource(loop_layer.__init__)
    assert "self.channels[channel] = asyncio.Queue()" in \
        inspect.getsource(loop_layer._subscribe_to_channel)
    assert params(loop_layer._get_shard) == ["self", "channel_or_group_name"]


def test_channels_redis_shard_receives_as_the_replacement_loop_assumes():
    shard = pubsub.RedisSingleShardConnection
    assert params(shard.__init__) == ["self", "host", "channel_layer"]
    assert "self._lock = asyncio.Lock()" in inspect.getsource(shard.__init__)
    loop = inspect.getsource(shard._do_receiving)
    assert "await self._pubsub.get_message(" in loop and "self._receive_message(message)" in loop
    assert params(shard._receive_message) == ["self", "message"]
    assert asyncio.iscoroutinefunction(shard.flush)
