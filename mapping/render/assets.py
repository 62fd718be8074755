"""The browser assets a map page needs, served by the app itself: no request leaves the server.

Out of the box a folium map asks eleven CDN URLs (Leaflet, jQuery, Bootstrap, Font Awesome,
awesome-markers, ...). Our choropleth (a GeoJSON layer, circle markers for centres, tooltips built
with DOM calls, an HTML legend) needs only Leaflet, which the PyPI package ``xstatic-leaflet``
ships. :func:`map_assets` gives folium its replacement asset lists; :func:`vendor_packages` tells
the web layer which directory to serve under which path, e.g. with Starlette::

    for package in vendor_packages():
        app.mount(f"/vendor/{package.name}", StaticFiles(directory=package.directory))

so ``/vendor/leaflet/leaflet.js`` is ``<xstatic leaflet BASE_DIR>/leaflet.js``, and the images
``leaflet.css`` refers to (``images/layers.png``) resolve under the same prefix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import xstatic.pkg.leaflet

# A path on this server: "/vendor", "/static/vendor"; not "//host", not "https://host".
_BASE_URL = re.compile(r"^(/[A-Za-z0-9._~-]+)+/?$")


@dataclass(frozen=True)
class VendorPackage:
    """A third-party browser library shipped as a Python package.

    Attributes
    ----------
    name : str
        The URL segment it is served under: ``<asset_base_url>/<name>/<file>``.
    version : str
        The library's version, e.g. ``"1.9.3"``.
    directory : pathlib.Path
        Where its files are on disk.
    """

    name: str
    version: str
    directory: Path


@dataclass(frozen=True)
class MapAssets:
    """Replacement values for folium's ``default_js`` and ``default_css`` lists.

    Attributes
    ----------
    js, css : tuple of (str, str)
        ``(name, url)`` pairs, the shape folium's lists have. The names are folium's own
        (``"leaflet"``, ``"leaflet_css"``), so the lists replace folium's entries one for one.
    """

    js: tuple[tuple[str, str], ...]
    css: tuple[tuple[str, str], ...]

    @property
    def urls(self) -> frozenset[str]:
        """Every URL of the lists."""
        return frozenset(url for _, url in (*self.js, *self.css))


LEAFLET = VendorPackage(
    name="leaflet",
    version=str(xstatic.pkg.leaflet.VERSION),
    directory=Path(xstatic.pkg.leaflet.BASE_DIR),
)


def vendor_packages() -> tuple[VendorPackage, ...]:
    """The vendor packages a map page loads, for the web layer to serve.

    Returns
    -------
    tuple of VendorPackage
        Today only Leaflet.

    Examples
    --------
    >>> [package.name for package in vendor_packages()]
    ['leaflet']
    >>> (vendor_packages()[0].directory / "leaflet.js").is_file()
    True
    """
    return (LEAFLET,)


def map_assets(asset_base_url: str = "/vendor") -> MapAssets:
    """The JS and CSS a choropleth page loads, as URLs on this server.

    Parameters
    ----------
    asset_base_url : str, default "/vendor"
        The path prefix the app serves :func:`vendor_packages` under. It must be a path on the
        same origin (``"/vendor"``), never a URL with a host.

    Returns
    -------
    MapAssets
        Leaflet's script and stylesheet.

    Raises
    ------
    ValueError
        If ``asset_base_url`` is not a same-origin path.

    Examples
    --------
    >>> map_assets("/vendor").js
    (('leaflet', '/vendor/leaflet/leaflet.js'),)
    >>> map_assets("/static/vendor/").css
    (('leaflet_css', '/static/vendor/leaflet/leaflet.css'),)
    """
    base = check_asset_base_url(asset_base_url)
    return MapAssets(
        js=(("leaflet", f"{base}/{LEAFLET.name}/leaflet.js"),),
        css=(("leaflet_css", f"{base}/{LEAFLET.name}/leaflet.css"),),
    )


def asset_file(url: str, asset_base_url: str = "/vendor") -> Path:
    """The file on disk that an asset URL of :func:`map_assets` is served from.

    Raises
    ------
    ValueError
        If the URL is not under ``asset_base_url`` or names no vendor package.

    Examples
    --------
    >>> asset_file("/vendor/leaflet/leaflet.css").name
    'leaflet.css'
    """
    base = check_asset_base_url(asset_base_url)
    if not url.startswith(f"{base}/"):
        raise ValueError(f"{url!r} is not under {base}/")
    relative = PurePosixPath(url[len(base) + 1 :])
    if ".." in relative.parts or len(relative.parts) < 2:
        raise ValueError(f"{url!r} names no file of a vendor package")
    packages = {package.name: package for package in vendor_packages()}
    package = packages.get(relative.parts[0])
    if package is None:
        raise ValueError(f"{url!r}: no vendor package {relative.parts[0]!r}")
    return package.directory.joinpath(*relative.parts[1:])


def check_asset_base_url(asset_base_url: str) -> str:
    """``asset_base_url`` without its trailing slash, once checked to be a same-origin path."""
    segments = asset_base_url.strip("/").split("/")
    if not _BASE_URL.match(asset_base_url) or {".", ".."} & set(segments):
        raise ValueError(
            f"asset_base_url must be a path on this server such as '/vendor', "
            f"got {asset_base_url!r}: map pages load nothing from other hosts"
        )
    return asset_base_url.rstrip("/")
