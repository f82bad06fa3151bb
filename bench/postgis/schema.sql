-- The side-by-side database (bench/side_by_side.sh): extensions, a staging table for the
-- dataset's JSON lines and the table of query points shared with the wrk side.
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
DROP TABLE IF EXISTS staging, facilities, bench_points;
CREATE UNLOGGED TABLE staging (doc jsonb NOT NULL);
CREATE TABLE bench_points (
    i    integer PRIMARY KEY,
    lat  float8 NOT NULL,
    lng  float8 NOT NULL,
    geog geography(Point, 4326) GENERATED ALWAYS AS
        (ST_SetSRID(ST_MakePoint(lng, lat), 4326)::geography) STORED
);
