-- 10 nearest palliative care units (緩和ケア病棟) to a query point (partial GiST index of 'pcu').
\set i random(1, :npoints)
SELECT id, name, address, lat, lng,
       ST_Distance(geog, (SELECT geog FROM bench_points WHERE i = :i)) AS distance_m
  FROM facilities
 WHERE 'pcu' = ANY (services)
 ORDER BY geog <-> (SELECT geog FROM bench_points WHERE i = :i)
 LIMIT 10;
