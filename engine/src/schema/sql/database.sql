-- Source: HyperDX docker/otel-collector/schema/seed/00001_create_database.sql (commit cb8e33fd5d9a6e487b3e87d88efbeda0fc3c4d89).
-- Changed: the seed's DATABASE_ENGINE suffix is dropped (sluice creates the server-default engine)
-- and ON CLUSTER is added.
CREATE DATABASE IF NOT EXISTS ${DATABASE}${ON_CLUSTER};
