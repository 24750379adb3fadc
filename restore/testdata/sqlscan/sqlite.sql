PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE t(id integer primary key, v text);
INSERT INTO t VALUES(1,'a;b');
INSERT INTO t VALUES(2,'ATTACH x; it''s');
CREATE TABLE IF NOT EXISTS "odd name"(a);
CREATE INDEX i on t(v);
COMMIT;
