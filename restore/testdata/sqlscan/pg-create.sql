--
-- PostgreSQL database dump
--

\restrict c0H0EBQswthiqBx56G9XRHafJpnaeF8i195dX2CmAHBt0fVukPMO51nWAkI2gXI

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: restorehelper_scan; Type: DATABASE; Schema: -; Owner: root
--

CREATE DATABASE restorehelper_scan WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE_PROVIDER = libc LOCALE = 'C.UTF-8';


ALTER DATABASE restorehelper_scan OWNER TO root;

\unrestrict c0H0EBQswthiqBx56G9XRHafJpnaeF8i195dX2CmAHBt0fVukPMO51nWAkI2gXI
\connect restorehelper_scan
\restrict c0H0EBQswthiqBx56G9XRHafJpnaeF8i195dX2CmAHBt0fVukPMO51nWAkI2gXI

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: s2; Type: SCHEMA; Schema: -; Owner: root
--

CREATE SCHEMA s2;


ALTER SCHEMA s2 OWNER TO root;

--
-- Name: f(); Type: FUNCTION; Schema: public; Owner: root
--

CREATE FUNCTION public.f() RETURNS integer
    LANGUAGE plpgsql
    AS $$ begin /* ; */ return 1; end $$;


ALTER FUNCTION public.f() OWNER TO root;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: t; Type: TABLE; Schema: public; Owner: root
--

CREATE TABLE public.t (
    id integer NOT NULL,
    v text
);


ALTER TABLE public.t OWNER TO root;

--
-- Name: Mixed; Type: TABLE; Schema: s2; Owner: root
--

CREATE TABLE s2."Mixed" (
    a integer
);


ALTER TABLE s2."Mixed" OWNER TO root;

--
-- Data for Name: t; Type: TABLE DATA; Schema: public; Owner: root
--

COPY public.t (id, v) FROM stdin;
1	a;b
2	USE x;\n\\connect y
3	it's
\.


--
-- Data for Name: Mixed; Type: TABLE DATA; Schema: s2; Owner: root
--

COPY s2."Mixed" (a) FROM stdin;
1
2
\.


--
-- Name: t t_pkey; Type: CONSTRAINT; Schema: public; Owner: root
--

ALTER TABLE ONLY public.t
    ADD CONSTRAINT t_pkey PRIMARY KEY (id);


--
-- PostgreSQL database dump complete
--

\unrestrict c0H0EBQswthiqBx56G9XRHafJpnaeF8i195dX2CmAHBt0fVukPMO51nWAkI2gXI

