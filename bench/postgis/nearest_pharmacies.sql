-- 10 nearest pharmacies to a query point (KNN on the partial GiST index of kind = pharmacy).
\set i random(1, :npoints)
SELECT id, name, address, lat, lng,
       ST_Distance(geog, (SELECT geog FROM bench_points WHERE i = :i)) AS distance_m
  FROM facilities
 WHERE kind = 'pharmacy'
 ORDER BY geog <-> (SELECT geog FROM bench_points WHERE i = :i)
 LIMIT 10;
