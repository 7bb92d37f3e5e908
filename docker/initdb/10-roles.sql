-- Two roles for the craft-village service, run once by the postgres image's entrypoint when it
-- creates an empty volume (mounted into /docker-entrypoint-initdb.d), connected as the image's
-- superuser to POSTGRES_DB.
--
--   craftvillage_owner  owns the database and so the public schema: runs the migrations (the
--                       one-shot `migrate` service) and loads the sample data.
--   craftvillage_api    what the API connects as: reads and writes rows in the owner's tables,
--                       and nothing else (no CREATE, ALTER, DROP, TRUNCATE; not a superuser).
--
-- Passwords come from the environment (psql's \getenv), set by docker-compose.yml:
-- CRAFTVILLAGE_OWNER_PASSWORD and CRAFTVILLAGE_API_PASSWORD.

\set ON_ERROR_STOP on
\getenv owner_password CRAFTVILLAGE_OWNER_PASSWORD
\getenv api_password CRAFTVILLAGE_API_PASSWORD
\if :{?owner_password}
\else
DO $$ BEGIN RAISE EXCEPTION 'CRAFTVILLAGE_OWNER_PASSWORD is not set'; END $$;
\endif
\if :{?api_password}
\else
DO $$ BEGIN RAISE EXCEPTION 'CRAFTVILLAGE_API_PASSWORD is not set'; END $$;
\endif

-- Not echoed: the statements carry the passwords.
\set ECHO none
CREATE ROLE craftvillage_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'owner_password';
CREATE ROLE craftvillage_api LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    NOINHERIT PASSWORD :'api_password';
\unset owner_password
\unset api_password

-- The database's owner owns its public schema (pg_database_owner), so may create in it.
SELECT format('ALTER DATABASE %I OWNER TO craftvillage_owner', current_database()) \gexec
-- Since PostgreSQL 15 PUBLIC may not create in public; say so anyway, for older servers.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SELECT format('GRANT CONNECT ON DATABASE %I TO craftvillage_api', current_database()) \gexec
GRANT USAGE ON SCHEMA public TO craftvillage_api;

-- Every table and sequence the owner creates from now on (each migration) is open to the API
-- for rows only.
ALTER DEFAULT PRIVILEGES FOR ROLE craftvillage_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO craftvillage_api;
ALTER DEFAULT PRIVILEGES FOR ROLE craftvillage_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO craftvillage_api;
