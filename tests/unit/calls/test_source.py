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
        import sys
        from mrcnn_tools.calls.readers import read_calls
        from mrcnn_tools.errors import InputFormatError
        try:
            read_calls(sys.argv[1])
        except InputFormatError as exc:
            print(exc)
        # VmHWM, the peak of this process's own memory (ru_maxrss would count the forking parent's)
        print(next(ln.split()[1] for ln in open("/proc/self/status") if ln.startswith("VmHWM")))
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


# --- found by tests/unit/calls/test_fuzz.py ----------------------------------------------------------------------


def test_nul_byte_after_the_first_lines_names_its_line(tmp_path):
    path = tmp_path / "n.cov"
    path.write_bytes(cov_rows(299) + b"chr1\t300\t300\t50\t1\x00\t1\n")
    with pytest.raises(InputFormatError, match="line 300: binary data"):
        read_calls(str(path), "bismark-cov")


def test_hundreds_of_digits_is_too_large_not_a_crash(tmp_path):
    path = tmp_path / "big.cov"
    path.write_text("chr1\t1\t1\t50\t1\t1\nchr1\t2\t2\t50\t" + "9" * 400 + "\t1\n")
    with pytest.raises(InputFormatError, match="line 2: count_m .* is too large"):
        read_calls(str(path), "bismark-cov")


def test_a_chromosome_named_na_and_an_empty_one(tmp_path):
    path = tmp_path / "na.cov"
    path.write_text("NA\t1\t1\t50\t1\t1\nnan\t2\t2\t50\t1\t1\n")
    assert read_calls(str(path)).chrom_names == ["NA", "nan"]
    path.write_text('chr1\t1\t1\t50\t1\t1\n""\t2\t2\t50\t1\t1\n')
    with pytest.raises(InputFormatError, match="line 2: the chromosome name is empty"):
        read_calls(str(path), "bismark-cov")


def test_a_first_line_wider_than_the_others_is_no_row_index(tmp_path):
    # pandas takes the extra field of a first line for a row index: the columns of every row would shift
    path = tmp_path / "w.cov"
    path.write_text("chr1\t1\t1\t50\t1\t1\t9\nchr1\t2\t2\t50\t3\t1\nchr1\t3\t3\t50\t0\t1\n")
    calls = read_calls(str(path), "bismark-cov")
    assert calls.chrom_names == ["chr1"] and calls.pos.tolist() == [0, 1, 2] and calls.count_m.tolist() == [1, 3, 0]


def test_unknown_context_and_fractional_position_refused(tmp_path):
    path = tmp_path / "r.txt"
    path.write_text("chr1\t5\t+\t2\t2\tCG\tCGA\nchr1\t9\t+\t4\t0\tXY\tCAG\n")
    with pytest.raises(InputFormatError, match="line 2: context 'XY'"):
        read_calls(str(path), "bismark-cpg-report")
    path.write_text("chr1\t1.5\t1.5\t50\t1\t1\n")
    with pytest.raises(InputFormatError, match="not a whole number"):
        read_calls(str(path), "bismark-cov")


def test_a_track_or_comment_line_is_no_column_header(tmp_path):
    # 'm' on a track line, words on a comment line: not the names of a count table's columns
    path = tmp_path / "t.bg"
    path.write_text("track m description=x\nchr1\t1\t2\t0.25\n")
    assert read_calls(str(path)).format == "bedgraph"
    path.write_text("# total coverage, m and u\nchr1\t1\t2\t0.25\n")
    assert read_calls(str(path)).format == "bedgraph"
    path.write_text("#chr\tpos\tM\tU\nchr1\t11\t3\t1\n")  # as many fields as the data: the header
    assert read_calls(str(path)).format == "counts"


def test_nanopolish_single_cpg_whose_end_is_not_its_start(tmp_path):
    path = tmp_path / "f.tsv"
    head = "chromosome\tstart\tend\tnum_motifs_in_group\tcalled_sites\tcalled_sites_methylated\tmethylated_frequency"
    path.write_text(
        head + "\tgroup_sequence\nchr1\t10\t10\t1\t4\t1\t0.250\tATTTACGTTTA\nchr1\t20\t25\t1\t4\t1\t0.250\tA\n"
    )
    with pytest.raises(InputFormatError, match="line 3: end is not start for a group of one CpG"):
        read_calls(str(path))
