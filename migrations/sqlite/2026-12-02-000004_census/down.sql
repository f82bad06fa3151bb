DROP TABLE census_areas;
