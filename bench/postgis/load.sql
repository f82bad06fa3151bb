-- From the staged JSON lines to the table a DBA would serve these questions from: one row per
-- placed active facility, its active services as a text[] (the shape of the partial
-- indexes), a geography column for distances and KNN, a Web-Mercator geometry for the
-- clustered view; rows stored in geohash order so that neighbours share heap pages.
CREATE TABLE facilities AS
SELECT doc->>'id'                              AS id,
       doc->>'kind'                            AS kind,
       doc->>'name'                            AS name,
       doc->'address'->>'text'                 AS address,
       (doc->'location'->>'lat')::float8       AS lat,
       (doc->'location'->>'lng')::float8       AS lng,
       ARRAY(SELECT s->>'kind'
               FROM jsonb_array_elements(coalesce(doc->'services', '[]'::jsonb)) s
              WHERE coalesce(s->>'status', 'active') = 'active') AS services,
       ST_SetSRID(ST_MakePoint((doc->'location'->>'lng')::float8,
                               (doc->'location'->>'lat')::float8), 4326)::geography AS geog,
       ST_Transform(ST_SetSRID(ST_MakePoint((doc->'location'->>'lng')::float8,
                                            (doc->'location'->>'lat')::float8), 4326), 3857) AS merc
  FROM staging
 WHERE jsonb_typeof(doc->'location') = 'object'
   AND coalesce(doc->>'status', 'active') = 'active'
 ORDER BY ST_GeoHash(ST_SetSRID(ST_MakePoint((doc->'location'->>'lng')::float8,
                                             (doc->'location'->>'lat')::float8), 4326), 12);
DROP TABLE staging;

ALTER TABLE facilities ADD PRIMARY KEY (id);
CREATE INDEX facilities_geog ON facilities USING gist (geog);
CREATE INDEX facilities_merc ON facilities USING gist (merc);
CREATE INDEX facilities_kind ON facilities (kind);
CREATE INDEX facilities_name_trgm ON facilities USING gin (name gin_trgm_ops);

-- One partial GiST index per service and per kind: "the 10 nearest with service X" walks
-- only the facilities holding X instead of filtering the nearest of all.
DO $$
DECLARE
    code text;
    services_seen text[] := ARRAY(SELECT DISTINCT unnest(services) FROM facilities ORDER BY 1);
    kinds_seen text[] := ARRAY(SELECT DISTINCT kind FROM facilities ORDER BY 1);
BEGIN
    FOREACH code IN ARRAY services_seen LOOP
        EXECUTE format('CREATE INDEX %I ON facilities USING gist (geog) WHERE %L = ANY (services)',
                       'facilities_geog_service_' || code, code);
    END LOOP;
    FOREACH code IN ARRAY kinds_seen LOOP
        EXECUTE format('CREATE INDEX %I ON facilities USING gist (geog) WHERE kind = %L',
                       'facilities_geog_kind_' || code, code);
    END LOOP;
END $$;

VACUUM ANALYZE facilities;
ANALYZE bench_points;
