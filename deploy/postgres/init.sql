-- A second database for Dagster's storage; the accounts database is POSTGRES_DB.
CREATE DATABASE dagster;
