-- Areas (二次医療圏), municipalities (市区町村) and the geocoder's town reference.
CREATE TABLE areas (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    pref_code TEXT NOT NULL,
    prefecture TEXT NOT NULL,
    population BIGINT,
    geometry TEXT
);

CREATE TABLE municipalities (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    pref_code TEXT NOT NULL,
    area_code TEXT NOT NULL,
    geometry TEXT
);

CREATE TABLE towns (
    muni_code TEXT NOT NULL,
    town TEXT NOT NULL,
    koaza TEXT NOT NULL,
    lat DOUBLE NOT NULL,
    lng DOUBLE NOT NULL,
    PRIMARY KEY (muni_code, town, koaza)
);

CREATE TABLE facilities (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    name_kana TEXT,
    navii TEXT,
    hic TEXT,
    kaigo TEXT,
    postal_code TEXT,
    prefecture TEXT NOT NULL,
    municipality_code TEXT,
    municipality TEXT,
    address TEXT NOT NULL,
    lat DOUBLE,
    lng DOUBLE,
    placement TEXT NOT NULL,
    area_code TEXT,
    hours TEXT,
    url TEXT,
    notes TEXT,
    origin TEXT NOT NULL,
    source TEXT NOT NULL,
    snapshot TEXT,
    updated_at TEXT NOT NULL,
    verified_at TEXT,
    verified_by TEXT
);
CREATE UNIQUE INDEX facilities_navii ON facilities (navii);
CREATE UNIQUE INDEX facilities_kaigo ON facilities (kaigo);
CREATE INDEX facilities_hic ON facilities (hic);

CREATE TABLE contacts (
    facility_id TEXT NOT NULL REFERENCES facilities (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    label TEXT,
    visibility TEXT NOT NULL,
    origin TEXT NOT NULL,
    source TEXT NOT NULL,
    snapshot TEXT,
    PRIMARY KEY (facility_id, position)
);

CREATE TABLE services (
    facility_id TEXT NOT NULL REFERENCES facilities (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    attributes TEXT NOT NULL,
    origin TEXT NOT NULL,
    source TEXT NOT NULL,
    snapshot TEXT,
    updated_at TEXT NOT NULL,
    verified_at TEXT,
    verified_by TEXT,
    PRIMARY KEY (facility_id, kind)
);

-- Bed status: who said it and when (the capacity-updated date).
CREATE TABLE capacities (
    facility_id TEXT NOT NULL REFERENCES facilities (id) ON DELETE CASCADE,
    service_kind TEXT NOT NULL,
    status TEXT NOT NULL,
    free_beds INTEGER,
    note TEXT,
    reported_by TEXT NOT NULL,
    reported_at TEXT NOT NULL,
    visibility TEXT NOT NULL,
    PRIMARY KEY (facility_id, service_kind)
);

CREATE TABLE admission_rules (
    facility_id TEXT NOT NULL REFERENCES facilities (id) ON DELETE CASCADE,
    service_kind TEXT NOT NULL,
    rules TEXT NOT NULL,
    visibility TEXT NOT NULL,
    PRIMARY KEY (facility_id, service_kind)
);

-- Every change: who, when, old value, new value. Other instances follow it by seq.
CREATE TABLE change_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    field TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT
);

CREATE TABLE meta (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
