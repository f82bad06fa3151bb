-- Names containing 薬局 within 5 km of a query point, the 10 nearest. 薬局 is two characters,
-- shorter than a trigram, so the trigram index cannot narrow it; the planner takes the GiST
-- index on the circle and filters the names (EXPLAIN in side_by_side.sh shows the plan).
\set i random(1, :npoints)
SELECT id, name, address, lat, lng,
       ST_Distance(geog, (SELECT geog FROM bench_points WHERE i = :i)) AS distance_m
  FROM facilities
 WHERE name LIKE '%薬局%'
   AND ST_DWithin(geog, (SELECT geog FROM bench_points WHERE i = :i), 5000)
 ORDER BY geog <-> (SELECT geog FROM bench_points WHERE i = :i)
 LIMIT 10;
