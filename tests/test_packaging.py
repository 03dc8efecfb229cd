"""The source distribution must build on its own: what the compiled extensions include is listed in
MANIFEST.in (an sdist without csrc/*.hpp once could not be compiled)."""
import fnmatch
import re
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]


def _manifest_patterns():
    path = ROOT / "MANIFEST.in"
    assert path.is_file(), "MANIFEST.in is missing: the sdist would lack the C++ headers"
    patterns = []
    for line in path.read_text().splitlines():
        words = line.split("#", 1)[0].split()
        if words and words[0] == "include":
            patterns += words[1:]
    return patterns


def _listed(relpath, patterns):
    return any(fnmatch.fnmatch(relpath, p) for p in patterns)


def test_every_header_the_extensions_include_is_in_the_sdist():
    patterns = _manifest_patterns()
    sources = sorted((ROOT / "csrc").glob("*.cpp"))
    assert sources, "no C++ sources found"
    included = set()
    for src in sources:
        assert _listed(f"csrc/{src.name}", patterns), src.name
        included.update(re.findall(r'#include "([^"]+)"', src.read_text()))
    for header in (ROOT / "csrc").glob("*.hpp"):
        included.update(re.findall(r'#include "([^"]+)"', header.read_text()))
    assert included, "the sources include no local headers?"
    for name in sorted(included):
        assert (ROOT / "csrc" / name).is_file(), f"csrc/{name} is included but missing"
        assert _listed(f"csrc/{name}", patterns), f"csrc/{name} is not in MANIFEST.in"


def test_cython_source_and_licence_are_in_the_sdist():
    patterns = _manifest_patterns()
    for pyx in (ROOT / "fastplate").glob("*.pyx"):
        assert _listed(f"fastplate/{pyx.name}", patterns), pyx.name
    assert (ROOT / "LICENSE").is_file() and _listed("LICENSE", patterns)
