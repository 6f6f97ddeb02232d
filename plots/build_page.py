"""Rebuild plots/page.html: the page `dvc plots show` and `dvc plots diff` fill, with pinned
Vega, Vega-Lite and Vega-Embed builds from the npm registry inlined, so it draws offline.

    python plots/build_page.py      # needs npm; writes plots/page.html and plots/vendor/

DVC's own page loads the three scripts from a CDN, so without internet its charts are
silently missing. `.dvc/config` points `plots.html_template` at the page built here.
"""

import base64
import hashlib
import subprocess
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (package, version, file in the package, npm's sha512 integrity of the package tarball).
# Vega 5.32.0 rather than 5.33: 5.33's package ships without its licence file. The three
# are the newest releases of the majors DVC's templates are written for (Vega-Lite v5).
BUILDS = [
    (
        "vega",
        "5.32.0",
        "build/vega.min.js",
        "jANt/5+SpV7b7owB5u8+M1TZ/TrF1fK6WlcvKDW38tH3Gb6hM1nzIhv10E41w3GBmwF29BU/qH2ruNkaYKjI5g==",
    ),
    (
        "vega-lite",
        "5.23.0",
        "build/vega-lite.min.js",
        "l4J6+AWE3DIjvovEoHl2LdtCUkfm4zs8Xxx7INwZEAv+XVb6kR6vIN1gt3t2gN2gs/y4DYTs/RPoTeYAuEg6mA==",
    ),
    (
        "vega-embed",
        "6.29.0",
        "build/vega-embed.min.js",
        "PmlshTLtLFLgWtF/b23T1OwX53AugJ9RZ3qPE2c01VFAbgt3/GSNI/etzA/GzdrkceXFma+FDHNXUppKuM0U6Q==",
    ),
]

# DVC replaces {refresh_tag} and {plot_divs}; {scripts}, where its CDN tags would go, is
# left out on purpose.
PAGE = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
{{refresh_tag}}
<title>digitflow plots</title>
{scripts}
<style>
body {{ font-family: sans-serif; }}
table {{ border-spacing: 15px; }}
</style>
</head>
<body>
{{plot_divs}}
</body>
</html>
"""


def npm_pack(package: str, version: str, integrity: str, into: Path) -> Path:
    """Download one package tarball with npm and check it against the pinned integrity."""
    name = subprocess.run(
        ["npm", "pack", "--silent", f"{package}@{version}"],
        cwd=into,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[-1]
    tarball = into / name
    digest = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if digest != integrity:
        raise SystemExit(f"error: {tarball.name} does not match its pinned sha512 integrity")
    return tarball


def member_text(tarball: Path, path: str) -> str:
    with tarfile.open(tarball) as archive:
        return archive.extractfile(f"package/{path}").read().decode("utf-8")


def inline_script(package: str, version: str, path: str, source: str) -> str:
    # DVC fills the page by replacing these strings, so none may occur in a script.
    if any(text in source for text in ("</script", "{scripts}", "{plot_divs}", "{refresh_tag}")):
        raise SystemExit(f"error: {package}@{version} {path} cannot be inlined as it is")
    return (
        f"<!-- {package}@{version} {path} (licence: plots/vendor/{package}.LICENSE) -->\n"
        f"<script>\n{source}\n</script>"
    )


def main() -> None:
    vendor = HERE / "vendor"
    vendor.mkdir(exist_ok=True)
    scripts = []
    with tempfile.TemporaryDirectory() as tmp:
        for package, version, path, integrity in BUILDS:
            tarball = npm_pack(package, version, integrity, Path(tmp))
            (vendor / f"{package}.LICENSE").write_text(member_text(tarball, "LICENSE"))
            scripts.append(inline_script(package, version, path, member_text(tarball, path)))
    (HERE / "page.html").write_text(PAGE.format(scripts="\n".join(scripts)), encoding="utf-8")


if __name__ == "__main__":
    main()
