"""The Debian documentation corpus behind `bench kb-real --corpus debian-docs`, on tiny files of each format."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from bot.bench import doc_corpus
from bot.bench.doc_corpus import debian_doc_articles, debian_doc_passages
from bot.cli import main

GCIDE = """\
00-database-url
   ftp://ftp.gnu.org/gnu/gcide

Abandon \\A*ban"don\\, v. t.
   1. To give up wholly; to leave with the intention of not reclaiming; to desert.
      [1913 Webster]

   Syn: forsake, desert
        [WordNet 1.5]

Kettle \\Ket"tle\\, n.
   1. A metallic vessel used for heating and boiling water or other liquid.
      [1913 Webster]
"""

WORDNET = (
    "  1 This software and database is being provided to you, the LICENSEE, by Princeton University\n"
    "00217014 04 n 02 destruction 0 devastation 0 000 | the termination of something by causing so much damage"
    ' to it that it cannot be repaired; "the destruction of the city was total"  \n'
)

REST = """\
:mod:`json` --- JSON encoder and decoder
========================================

.. module:: json

`JSON <https://json.org>`_ is a lightweight data interchange format inspired by
JavaScript object literal syntax, exposed through :func:`json.dumps` here.

Encoding basic Python object hierarchies::

    >>> import json
    >>> json.dumps(['foo', {'bar': ('baz', None, 1.0, 2)}])

Decoding turns the text back into the same Python objects again.
"""

FORTUNES = "A journey of a thousand miles begins with a single step.\n\t\t-- Lao Tzu\n%\nok\n%\n"

POD = """\
=head1 NAME

perlfaq3 - Programming Tools

=head2 How do I do (anything)?

Have you looked at CPAN? The chances are that someone has already written a module for it.

    use strict;
    my $x = 1;

Use C<perldoc> to read the B<documentation> of any installed module.
"""

SPHINX_HTML = """\
<html><head><title>Writing views | Django</title></head><body>
<nav><p>Home and every other page of the whole site are listed here</p></nav>
<h1>Writing views</h1>
<p>A view function is a Python function that takes a web request and returns a web response.</p>
<pre>def current_datetime(request): return HttpResponse(html)</pre>
<p>A view function is a Python function that takes a web request and returns a web response.</p>
</body></html>
"""

JAVADOC_HTML = """\
<html><head><title>ArrayList (Java SE 17)</title></head><body>
<section class="summary"><div class="block">Appends the specified element to the end of this list.</div></section>
<section class="details"><h3>add</h3>
<div class="block">Appends the specified element to the end of this list, growing its array when full.
<div class="note">Nested markup inside a description stays with it.</div></div>
</section></body></html>
"""

MAN = """\
.\\" a comment that is not text
.TH GREP 1
.SH NAME
grep \\- print lines that match patterns
.SH DESCRIPTION
.B grep
searches for \\fIPATTERNS\\fR in each \\fBFILE\\fP and prints each line that matches a pattern.
.PP
Typical usage:
.nf
grep \\-r pattern .
.fi
.SH EXIT STATUS
Normally the exit status is zero if a line is selected, one if no lines were selected.
"""


@pytest.fixture
def sources(tmp_path: Path) -> dict[str, Path]:
    gcide = tmp_path / "gcide.dict.dz"
    gcide.write_bytes(gzip.compress(GCIDE.encode()))
    wordnet = tmp_path / "wordnet"
    wordnet.mkdir()
    (wordnet / "data.noun").write_text(WORDNET)
    rest = tmp_path / "python" / "library"
    rest.mkdir(parents=True)
    (rest / "json.rst.txt").write_text(REST)
    fortunes = tmp_path / "fortunes"
    fortunes.mkdir()
    (fortunes / "wisdom").write_text(FORTUNES)
    (fortunes / "wisdom.dat").write_bytes(b"\x00\x02binary index")
    pod = tmp_path / "pod"
    pod.mkdir()
    (pod / "perlfaq3.pod").write_text(POD)
    django = tmp_path / "django"
    (django / "_modules").mkdir(parents=True)
    (django / "views.html").write_text(SPHINX_HTML)
    (django / "search.html").write_text(SPHINX_HTML.replace("view function", "search page"))
    (django / "_modules" / "code.html").write_text(SPHINX_HTML.replace("view function", "source listing"))
    java = tmp_path / "java"
    (java / "class-use").mkdir(parents=True)
    (java / "ArrayList.html").write_text(JAVADOC_HTML)
    (java / "class-use" / "ArrayList.html").write_text(JAVADOC_HTML.replace("Appends", "Uses"))
    man = tmp_path / "man" / "man1"
    man.mkdir(parents=True)
    (man / "grep.1.gz").write_bytes(gzip.compress(MAN.encode()))
    (man / "egrep.1.gz").write_bytes(gzip.compress(b".so man1/grep.1\n"))
    (man / "gcloud_compute.1.gz").write_bytes(gzip.compress(b".SH NAME\nManages the compute resources of a cloud.\n"))
    return {
        "gcide": gcide,
        "wordnet": wordnet,
        "python-docs": tmp_path / "python",
        "fortunes": fortunes,
        "perl-docs": pod,
        "django-docs": django,
        "java-api": java,
        "man-pages": tmp_path / "man",
        "kernel-docs": tmp_path / "not-installed",
    }


def test_each_format_gives_its_prose_without_markup_code_or_lists(sources: dict[str, Path]) -> None:
    passages, counts = debian_doc_passages(1000, sources=sources)
    assert counts == {
        "gcide": 2,
        "wordnet": 1,
        "python-docs": 2,
        "fortunes": 1,
        "perl-docs": 2,
        "django-docs": 1,
        "java-api": 1,
        "man-pages": 3,
    }
    text = "\n".join(passages)
    # Prose of every source, in the context the KB gives a passage (title, section).
    assert "Abandon. To give up wholly; to leave with the intention of not reclaiming; to desert." in passages
    assert "destruction, devastation. the termination of something by causing so much damage to it" in text
    assert "json --- JSON encoder and decoder. JSON is a lightweight data interchange format" in text
    assert "A journey of a thousand miles begins with a single step." in text
    assert "perlfaq3. How do I do (anything)?. Have you looked at CPAN?" in text
    assert "already written a module for it. Use perldoc to read the documentation of any installed module." in text
    assert "Writing views | Django. Writing views. A view function is a Python function" in text
    assert "ArrayList (Java SE 17). add. Appends the specified element to the end of this list, growing" in text
    assert "Nested markup inside a description stays with it." in text
    assert "grep.1. DESCRIPTION. grep searches for PATTERNS in each FILE and prints each line" in text
    # No markup, code, attribution, navigation, summaries, generated lists or licence text.
    for absent in (
        ":mod:",
        ":func:",
        "`",
        "https://",
        "C<",
        "B<",
        "\\f",
        "\\-",
        "<p>",
        "1913 Webster",
        "Syn:",
        ">>>",
        "use strict",
        "def current_datetime",
        "HttpResponse",
        "Lao Tzu",
        "Home and every",
        "search page",
        "source listing",
        "Uses the",
        "LICENSEE",
        "grep -r",
        "a comment",
        "cloud",
    ):
        assert absent not in text, absent
    # Javadoc's summary repeats the description's first sentence: only the description is kept.
    assert sum(p.startswith("ArrayList (Java SE 17)") for p in passages) == 1
    # A paragraph repeated on one page is kept once.
    assert sum("takes a web request" in p for p in passages) == 1


def test_the_corpus_stops_at_the_limit_and_keeps_its_order(sources: dict[str, Path]) -> None:
    everything, _ = debian_doc_passages(1000, sources=sources)
    first, counts = debian_doc_passages(3, sources=sources)
    assert first == everything[:3]
    assert counts == {"gcide": 2, "wordnet": 1}
    assert "ftp.gnu.org" not in "".join(everything)  # the dictionary's own header
    # Articles come out in a fixed order, source by source.
    assert [a.id.split(":")[0] for a in debian_doc_articles(sources)][:3] == ["gcide", "gcide", "wordnet"]


def test_a_broken_man_page_is_skipped(sources: dict[str, Path]) -> None:
    (sources["man-pages"] / "man1" / "broken.1.gz").write_bytes(b"not gzip at all")
    _, counts = debian_doc_passages(1000, sources={"man-pages": sources["man-pages"]})
    assert counts == {"man-pages": 3}


def test_kb_real_on_the_debian_corpus_keeps_and_reuses_its_vectors(
    sources: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr(doc_corpus, "DEBIAN_DOCS", sources)
    vectors = tmp_path / "vectors.npy"
    out = tmp_path / "kb_real.json"
    argv = ["bench", "kb-real", "--corpus", "debian-docs", "--size", "12", "--queries", "3"]
    argv += ["--generators", "layered", "--vectors", str(vectors), "--out", str(out)]
    assert main(argv) == 0
    first = json.loads(out.read_text())
    assert first["corpus"] == "debian-docs"
    assert sum(first["sources"].values()) == 12
    real, layered = first["rows"]
    assert (real["vectors"], real["chunks"], layered["vectors"], layered["chunks"]) == ("real", 9, "layered", 9)
    assert real["build_s"] >= 0 and [s["efSearch"] for s in real["sweep"]] == [16, 32, 64, 128, 256, 512]
    assert "embedding 12 passages" in capsys.readouterr().out

    assert main(argv) == 0  # the same texts: the kept vectors, the same figures
    assert "vectors from" in capsys.readouterr().out
    assert json.loads(out.read_text())["rows"][0]["median_cosine"] == real["median_cosine"]

    assert main([*argv[:5], "11", *argv[6:]]) == 0  # other texts: embedded again
    assert "embedding 11 passages" in capsys.readouterr().out

    (tmp_path / "kb_real_debian_1m.json").write_text(out.read_text())  # the name make bench gives it
    assert main(["bench", "plots", "--dir", str(tmp_path)]) == 0
    assert (tmp_path / "kb_real_debian_1m.png").stat().st_size > 10_000


def test_kb_real_refuses_an_unknown_generator(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"unknown generator.*nope"):
        main(["bench", "kb-real", "--generators", "layered,nope", "--out", str(tmp_path / "x.json")])
