"""Calls sources in bounded memory (issue 23): stdin and pipes read as streams, lines capped, gzip bombs refused
early, real line numbers behind blank lines and quotes."""

import gzip
import io
import subprocess
import sys
import textwrap

import pytest

from mrcnn_tools.calls import source as source_module
from mrcnn_tools.calls.readers import read_calls
from mrcnn_tools.calls.source import MAX_LINE, Source
from mrcnn_tools.errors import InputFormatError


class CountingStdin:
    """A stand-in for sys.stdin whose buffer counts the bytes taken from it."""

    def __init__(self, data):
        self.buffer = self._Counting(data)

    class _Counting(io.BytesIO):
        taken = 0

        def read(self, n=-1):
            out = super().read(n)
            self.taken += len(out)
            return out


def cov_rows(n, start=1):
    return "".join(f"chr1\t{p}\t{p}\t50\t1\t1\n" for p in range(start, start + n)).encode()


@pytest.mark.parametrize("compress", [False, True])
def test_stdin_is_read_as_a_stream(monkeypatch, compress):
    data = cov_rows(400_000)  # ~10 MB
    stdin = CountingStdin(gzip.compress(data, 1) if compress else data)
    monkeypatch.setattr(sys, "stdin", stdin)
    src = Source("-")
    assert src.head(5)[0] == "chr1\t1\t1\t50\t1\t1"
    # detection took a few chunks, not the stream
    assert stdin.buffer.taken <= 4 * source_module.CHUNK
    calls = read_calls("-", "bismark-cov")
    assert len(calls) == 400_000 and calls.pos[-1] == 399_999
    again = read_calls("-", "bismark-cov")  # a second reading (another format tried) from the kept stream
    assert len(again) == 400_000


def test_a_new_stdin_replaces_the_kept_one(monkeypatch):
    monkeypatch.setattr(sys, "stdin", CountingStdin(cov_rows(3)))
    assert len(read_calls("-")) == 3
    monkeypatch.setattr(sys, "stdin", CountingStdin(cov_rows(5)))
    assert len(read_calls("-")) == 5


def test_line_over_the_cap_in_the_data_names_its_line(tmp_path):
    path = tmp_path / "long.cov"
    path.write_bytes(cov_rows(300) + b"chr1\t301\t301\t50\t1\t" + b"1" * (MAX_LINE + 10) + b"\n" + cov_rows(3, 400))
    with pytest.raises(InputFormatError, match="line 301: a line longer than 1 MB"):
        read_calls(str(path), "bismark-cov")


def test_gzip_bomb_refused_in_bounded_memory(tmp_path):
    # 200 MB of zero bytes, one endless line: refused on line 1 without holding it (a child process measures)
    bomb = tmp_path / "bomb.gz"
    with gzip.open(bomb, "wb", compresslevel=1) as fh:
        for _ in range(200):
            fh.write(bytes(1 << 20))
    code = textwrap.dedent(
        """
        import resource, sys
        from mrcnn_tools.calls.readers import read_calls
        from mrcnn_tools.errors import InputFormatError
        try:
            read_calls(sys.argv[1])
        except InputFormatError as exc:
            print(exc)
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        """
    )
    out = subprocess.run([sys.executable, "-c", code, str(bomb)], capture_output=True, text=True, check=True)
    message, maxrss_kb = out.stdout.strip().splitlines()
    assert "line 1: a line longer than 1 MB" in message
    assert int(maxrss_kb) < 400 * 1024  # the interpreter with pandas takes ~100 MB; the bomb inflates to 200


@pytest.mark.parametrize(
    "data,match",
    [
        ("chr1\t1\t1\t50\t1\t1\n".encode("utf-16"), "UTF-16"),
        (b"BAM\x01\x00\x00\x00\x00", "BAM file"),
        (b"chr1\x00\x00\t1\n", "NUL bytes"),
    ],
    ids=["utf16", "bam", "binary"],
)
def test_text_that_is_no_table(tmp_path, data, match):
    path = tmp_path / "x.txt"
    path.write_bytes(gzip.compress(data) if match == "BAM file" else data)
    with pytest.raises(InputFormatError, match=match):
        read_calls(str(path))


def test_truncated_gzip_stream_on_stdin(monkeypatch):
    data = gzip.compress(cov_rows(50_000))
    monkeypatch.setattr(sys, "stdin", CountingStdin(data[: len(data) // 2]))
    with pytest.raises(InputFormatError, match="truncated or corrupt"):
        read_calls("-", "bismark-cov")


def test_blank_lines_keep_line_numbers(tmp_path):
    path = tmp_path / "b.cov"
    path.write_text("chr1\t1\t1\t50\t1\t1\n\n  \nchr1\t2\t2\t50\t1\t1\n\nchr1\t3\t3\t50\tx\t1\n")
    with pytest.raises(InputFormatError) as err:
        read_calls(str(path), "bismark-cov")
    assert err.value.line == 6


def test_quotes_are_removed_but_never_join_lines(tmp_path):
    path = tmp_path / "q.cov"
    path.write_text('"chr1"\t"1"\t1\t50\t"3"\t1\nchr1\t2\t2\t50\t1\t1\n')
    calls = read_calls(str(path), "bismark-cov")
    assert calls.chrom_names == ["chr1"] and calls.count_m.tolist() == [3, 1]
    path.write_text('chr1\t1\t1\t50\t1\t1\n"chr1\t2\t2\t50\t1\t1\nchr1\t3\t3\t50\t1\t"x\n')
    with pytest.raises(InputFormatError) as err:
        read_calls(str(path), "bismark-cov")
    assert err.value.line == 3  # the unbalanced quote on line 2 did not swallow line 3
