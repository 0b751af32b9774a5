-- SPDX-License-Identifier: MIT
-- sqlite3 workload for the preload tests: inserts through recursive CTEs,
-- indexes, updates, deletes, joins, grouping, string functions, JSON. Every
-- query has a total order, so the output is the same on every run.
PRAGMA journal_mode = MEMORY;
PRAGMA cache_size = 200;
CREATE TABLE customer(id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT NOT NULL);
CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER NOT NULL REFERENCES customer(id),
                    amount INTEGER NOT NULL, note TEXT);
BEGIN;
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 5000)
INSERT INTO customer(id, name, city)
SELECT n, printf('customer-%05d-%s', n, substr('abcdefghijklmnopqrstuvwxyz', n % 26 + 1, n % 7 + 1)),
       'city' || (n * 7919 % 97)
FROM seq;
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 60000)
INSERT INTO orders(customer, amount, note)
SELECT n * 2654435761 % 5000 + 1, n * 40503 % 10007, hex(randomblob(0)) || printf('order %d', n)
FROM seq;
COMMIT;
CREATE INDEX orders_customer ON orders(customer);
CREATE INDEX customer_city ON customer(city, name);
UPDATE orders SET note = note || ' (large)' WHERE amount > 9000;
DELETE FROM orders WHERE amount % 13 = 0;
SELECT count(*), sum(amount), min(amount), max(amount) FROM orders;
SELECT c.city, count(o.id), sum(o.amount)
FROM customer c JOIN orders o ON o.customer = c.id
GROUP BY c.city ORDER BY sum(o.amount) DESC, c.city LIMIT 5;
SELECT c.name, group_concat(o.amount, '+')
FROM customer c JOIN orders o ON o.customer = c.id
WHERE c.id IN (17, 4242)
GROUP BY c.id ORDER BY c.id;
SELECT count(*) FROM orders WHERE note LIKE '%(large)';
SELECT json_group_array(json_object('id', id, 'name', upper(name)))
FROM (SELECT id, name FROM customer WHERE city = 'city3' ORDER BY name LIMIT 4);
SELECT length(group_concat(name, ',')) FROM (SELECT name FROM customer ORDER BY name DESC);
SELECT city, n FROM (SELECT city, count(*) AS n FROM customer GROUP BY city)
ORDER BY n DESC, city LIMIT 3;
VACUUM;
PRAGMA integrity_check;
