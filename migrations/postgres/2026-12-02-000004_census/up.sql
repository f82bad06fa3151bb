-- 2020 census small areas (令和2年国勢調査 小地域, 町丁・字): the population weights of the
-- coverage report. Reference data from the dataset, replaced whole on every load.
CREATE TABLE census_areas (
    key_code TEXT PRIMARY KEY NOT NULL,
    muni_code TEXT NOT NULL,
    name TEXT NOT NULL,
    population BIGINT NOT NULL,
    households BIGINT NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lng DOUBLE PRECISION NOT NULL
);
