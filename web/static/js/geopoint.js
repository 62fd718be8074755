// The map picker of a geopoint question. Leaflet comes from the app (/vendor/leaflet), and the
// only layer is the packaged country outlines (/geo/countries.geojson): no tiles, no request to
// another host. A click fills in the latitude and longitude inputs, which stay the way to type
// a point exactly (and the whole answer without JavaScript); a typed point moves the marker.

const EUROPE = [[36, -12], [70, 34]]; // mainland Europe: the first view without a point
const PRECISION = 1e6; // six decimals: about 10 cm, more than a click can mean
let outlines = null;

function countryOutlines() {
  if (!outlines) {
    outlines = fetch("/geo/countries.geojson", { credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : null))
      .catch(() => null);
  }
  return outlines;
}

function coordinate(input, limit) {
  const text = input.value.trim().replace(",", ".");
  const value = Number(text);
  return text !== "" && Number.isFinite(value) && Math.abs(value) <= limit ? value : null;
}

function rounded(value) {
  return String(Math.round(value * PRECISION) / PRECISION);
}

function picker(L, fieldset, label) {
  const node = fieldset.querySelector("[data-geopoint-map]");
  const latitude = fieldset.querySelector('[data-geopoint-part="latitude"]');
  const longitude = fieldset.querySelector('[data-geopoint-part="longitude"]');
  if (!node || !latitude || !longitude || node.dataset.ready) return;
  node.dataset.ready = "yes";
  node.hidden = false;
  const help = fieldset.querySelector(".geopoint-help");
  if (help) help.hidden = false;
  node.setAttribute("role", "group");
  node.setAttribute("aria-label", label);

  const map = L.map(node, { minZoom: 2, maxZoom: 17, zoomSnap: 0.5, attributionControl: false });
  map.setView([50, 10], 3);
  const typed = () => {
    const lat = coordinate(latitude, 90);
    const lon = coordinate(longitude, 180);
    return lat === null || lon === null ? null : [lat, lon];
  };
  let marker = null;
  const show = (point) => {
    if (!point) {
      if (marker) marker.remove();
      marker = null;
      return;
    }
    if (marker) marker.setLatLng(point);
    else {
      marker = L.circleMarker(point, {
        radius: 7, color: "#b3261e", weight: 3, fillColor: "#ffffff", fillOpacity: 1,
        interactive: false,
      }).addTo(map);
    }
  };

  // A map drawn while hidden (a question not relevant yet) has no size: place it once it has.
  let placed = false;
  const place = () => {
    if (!node.clientWidth) return;
    map.invalidateSize();
    if (placed) return;
    placed = true;
    const point = typed();
    if (point) map.setView(point, 8);
    else map.fitBounds(EUROPE);
  };
  new ResizeObserver(place).observe(node);
  place();
  show(typed());

  countryOutlines().then((data) => {
    if (!data) return;
    L.geoJSON(data, {
      interactive: false,
      style: { color: "#6b7580", weight: 1, fillColor: "#fbfaf5", fillOpacity: 1 },
    }).addTo(map).bringToBack();
  });

  map.on("click", (event) => {
    const point = event.latlng.wrap();
    latitude.value = rounded(point.lat);
    longitude.value = rounded(point.lng);
    show([point.lat, point.lng]);
    latitude.dispatchEvent(new Event("input", { bubbles: true }));
  });
  [latitude, longitude].forEach((input) => input.addEventListener("change", () => {
    const point = typed();
    show(point);
    if (point) map.panTo(point);
  }));
}

// Every geopoint of `root` outside a row template gets its picker, once; call again after a
// repeat row is added.
export function setUpGeopoints(root, label) {
  const L = window.L;
  if (!L) return;
  root.querySelectorAll("fieldset[data-geopoint]").forEach((fieldset) => {
    if (!fieldset.closest("template")) picker(L, fieldset, label);
  });
}
