-- The clustered map view: every facility in a prefecture-sized box (:w x :h degrees centred
-- on the query point) grouped on a Web-Mercator grid whose cell is pallimap's cluster radius
-- (40 px) at the zoom (:cell metres), with count and centroid per cell — what the map draws.
-- The cell of ST_SnapToGrid(merc, :cell), written as the two cell numbers so the grouping is
-- on two numbers rather than on geometries (the same groups).
\set i random(1, :npoints)
SELECT count(*) AS n, avg(lng) AS lng, avg(lat) AS lat, min(id) AS sample_id
  FROM facilities
 WHERE merc && (SELECT ST_Transform(ST_MakeEnvelope(lng - :w / 2.0, lat - :h / 2.0,
                                                    lng + :w / 2.0, lat + :h / 2.0, 4326), 3857)
                  FROM bench_points WHERE i = :i)
 GROUP BY round(ST_X(merc) / :cell), round(ST_Y(merc) / :cell);
