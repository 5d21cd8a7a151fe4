// The details page's map: the office's township and point. Clicking the map or dragging the
// marker fills the longitude and latitude inputs (WGS-84, as Leaflet's coordinates are) and
// sets the CRS choice to WGS-84. The form works without this script; data comes from the
// page's JSON block (no inline script: the pages' CSP allows only scripts of this site).
(function () {
  "use strict";
  var holder = document.getElementById("location-map");
  var source = document.getElementById("location-map-data");
  if (!holder || !source || typeof L === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var lon = document.getElementById("f-lon");
  var lat = document.getElementById("f-lat");
  var crs = document.getElementById("f-crs");
  var editable = Boolean(data.editable && lon && lat && crs);
  var map = L.map(holder, { attributionControl: false });
  var point = L.latLng(data.lat, data.lon);
  var marker = L.marker(point, { draggable: editable, title: "司法所位置" }).addTo(map);
  if (data.township) {
    var township = L.geoJSON(data.township, {
      style: { color: "#1565c0", weight: 2, fillOpacity: 0.08 },
      interactive: false,
    }).addTo(map);
    map.fitBounds(township.getBounds().extend(point), { padding: [16, 16] });
  } else {
    map.setView(point, 13);
  }
  if (!editable) {
    return;
  }
  function fill(latlng) {
    lon.value = latlng.lng.toFixed(7);
    lat.value = latlng.lat.toFixed(7);
    crs.value = "EPSG:4326";
  }
  marker.on("dragend", function () {
    fill(marker.getLatLng());
  });
  map.on("click", function (event) {
    marker.setLatLng(event.latlng);
    fill(event.latlng);
  });
})();
