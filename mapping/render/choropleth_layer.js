// The choropleth layer of an accessgap map page: called once per map with the Leaflet map and
// the payload built by mapping/render/interactive.py. Tooltips are DOM nodes filled with
// textContent, so a name holding markup shows as text; the hatch patterns go into the SVG
// Leaflet draws in (found through the pane) and reuse its namespace, so no URL appears.
(function (map, data) {
  "use strict";
  function add(parent, tag, text) {
    var node = document.createElement(tag);
    node.textContent = text;
    parent.appendChild(node);
    return node;
  }
  function card(title, labels, texts) {
    var box = document.createElement("div");
    add(box, "strong", title);
    var table = document.createElement("table");
    for (var i = 0; i < labels.length; i++) {
      var row = table.insertRow();
      add(row, "th", labels[i]).scope = "row";
      add(row, "td", texts[i]);
    }
    box.appendChild(table);
    return box;
  }
  function set(node, attributes) {
    for (var key in attributes) { node.setAttribute(key, attributes[key]); }
    return node;
  }
  function addPatterns(svg, patterns) {
    var ns = svg.namespaceURI;
    var defs = document.createElementNS(ns, "defs");
    patterns.forEach(function (p) {
      var pattern = set(document.createElementNS(ns, "pattern"),
        {id: p.id, width: 6, height: 6, patternUnits: "userSpaceOnUse"});
      pattern.appendChild(set(document.createElementNS(ns, "rect"),
        {width: 6, height: 6, fill: p.background}));
      if (p.kind === "lines") {
        pattern.setAttribute("patternTransform", "rotate(45)");
        pattern.appendChild(set(document.createElementNS(ns, "line"),
          {x1: 1, y1: 0, x2: 1, y2: 6, stroke: p.ink, "stroke-width": 1.2}));
      } else {
        pattern.appendChild(set(document.createElementNS(ns, "circle"),
          {cx: 3, cy: 3, r: 1.1, fill: p.ink}));
      }
      defs.appendChild(pattern);
    });
    svg.insertBefore(defs, svg.firstChild);
  }
  function decode(area) {
    var x = 0, y = 0;
    var polygons = area[4].map(function (polygon) {
      return polygon.map(function (steps) {
        var ring = [];
        for (var i = 0; i < steps.length; i += 2) {
          x += steps[i];
          y += steps[i + 1];
          ring.push([x / data.scale, y / data.scale]);
        }
        ring.push(ring[0]);
        return ring;
      });
    });
    return {type: "Feature", id: area[0], properties: {n: area[1], c: area[2], t: area[3]},
            geometry: {type: "MultiPolygon", coordinates: polygons}};
  }
  var areas = L.geoJSON({type: "FeatureCollection", features: data.areas.map(decode)}, {
    style: function (feature) { return data.styles[feature.properties.c]; }
  });
  areas.bindTooltip(function (layer) {
    var p = layer.feature.properties;
    var texts = [p.t[0], data.classLabels[p.c]].concat(p.t.slice(1));
    return card(p.n, data.labels, texts);
  }, {sticky: true});
  areas.addTo(map);
  var svg = map.getPane("overlayPane").querySelector("svg");
  if (svg) { addPatterns(svg, data.patterns); }
  if (data.centres) {
    var centres = L.geoJSON(data.centres, {
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, data.centreStyles[feature.properties.o]);
      }
    });
    centres.bindTooltip(function (layer) {
      var p = layer.feature.properties;
      return card(p.n, data.centreLabels, p.t);
    });
    centres.addTo(map);
    var overlays = {};
    overlays[data.centreLayer] = centres;
    L.control.layers(null, overlays, {collapsed: false}).addTo(map);
  }
  map.fitBounds(data.bounds);
})
