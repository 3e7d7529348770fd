"""The interval between progress log lines is $MRCNN_PROGRESS_INTERVAL where it is a number >= 0, read in one place
(mrcnn_tools.progress.log_interval), and a note (the loss) ends the line."""

import io
import logging

import pytest

from mrcnn_tools.progress import INTERVAL_VARIABLE, LOG_INTERVAL, Progress, log_interval

CASES = [(None, LOG_INTERVAL), ("0", 0.0), ("2.5", 2.5), ("-1", LOG_INTERVAL), ("nan", LOG_INTERVAL)]


@pytest.mark.parametrize("value, expected", [*CASES, ("soon", LOG_INTERVAL), ("", LOG_INTERVAL)])
def test_interval_from_the_environment(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv(INTERVAL_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(INTERVAL_VARIABLE, value)
    assert log_interval() == expected
    assert Progress("x", 1, stream=io.StringIO(), enabled=False).interval == expected
    assert Progress("x", 1, stream=io.StringIO(), enabled=False, interval=7).interval == 7  # a given one wins


def test_a_line_at_every_update_with_interval_zero_and_the_last_note(monkeypatch, caplog):
    monkeypatch.setenv(INTERVAL_VARIABLE, "0")
    t = [0.0]
    log = logging.getLogger("mrcnn_tools.test_progress_interval")
    with caplog.at_level(logging.INFO, logger=log.name):
        with Progress("epoch 1/2", 4, "batch", log=log, stream=io.StringIO(), clock=lambda: t[0]) as p:
            for loss in (0.5, 0.25):
                t[0] += 2
                p.update(2, note=f"loss {loss:.4f}")
            t[0] += 1
            p.update(0)  # no new note: the last one stays
    assert [r.getMessage() for r in caplog.records] == [
        "epoch 1/2: 2/4 batch (50%), 1 batch/s, ~2 s left, loss 0.5000",
        "epoch 1/2: 4/4 batch (100%), 1 batch/s, loss 0.2500",
        "epoch 1/2: 4/4 batch (100%), 0.8 batch/s, loss 0.2500",
    ]
