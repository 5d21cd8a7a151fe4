vcl 4.1;
# The front of docker/compose.yaml: spreads requests over the app containers and keeps vector
# tiles. A tile depends on who asks (their tenant and region), so it is kept per credential
# (the Authorization header or the login cookie), and it is never served unasked: its TTL is
# 0 and it is *kept* for an hour, so every request for it is a conditional request to the
# app (If-None-Match: its ETag, named by the data version, tenant, region and request). The
# app answers 304 in a fraction of a tile's cost while the data is unchanged, and a new tile
# the moment a write changes it: a write is seen by the next read, through this cache too.

import directors;

probe ready {
    .url = "/readyz";
    .interval = 5s;
    .timeout = 4s;
    .window = 3;
    .threshold = 2;
}

# one backend per app container (docker/compose.yaml api-1, api-2): add both to scale out
backend api1 { .host = "api-1"; .port = "8000"; .probe = ready; }
backend api2 { .host = "api-2"; .port = "8000"; .probe = ready; }

sub vcl_init {
    new apps = directors.round_robin();
    apps.add_backend(api1);
    apps.add_backend(api2);
}

sub vcl_recv {
    set req.backend_hint = apps.backend();
    # the client's address, and only it (a client's own X-Forwarded-For is dropped): the app
    # trusts this header from the compose network (REGISTRY_FORWARDED_ALLOW_IPS)
    set req.http.X-Forwarded-For = client.ip;
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    if (req.url ~ "^/(ogc/collections/[^/?]+/tiles/[^/?]+|maps/[a-z]+/tiles)/[0-9]+/[0-9]+/[0-9]+([?].*)?$") {
        return (hash);  # (Varnish would pass a request with credentials: these we keep)
    }
    return (pass);
}

sub vcl_hash {
    hash_data(req.url);
    hash_data(req.http.Authorization);
    if (req.http.Cookie ~ "(^|;\s*)registry_token=") {
        hash_data(regsub(req.http.Cookie, "^(.*;\s*)?registry_token=([^;]*).*$", "\2"));
    }
    return (lookup);
}

sub vcl_backend_response {
    if (bereq.url ~ "/tiles/" && (beresp.status == 200 || beresp.status == 204)
            && beresp.http.ETag) {
        set beresp.ttl = 0s;
        set beresp.grace = 0s;
        set beresp.keep = 1h;
        return (deliver);
    }
}
