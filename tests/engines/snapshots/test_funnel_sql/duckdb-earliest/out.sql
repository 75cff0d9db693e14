WITH phase_exposures AS (
  SELECT
    "unit_id" AS unit_id,
    "variant" AS variant,
    "timestamp" AS ts
  FROM "exposures"
  WHERE
    "experiment" = 'checkout' AND "phase" = 1
), first_exposures AS (
  SELECT
    unit_id,
    MIN(ts) AS first_ts,
    MIN(variant) AS variant,
    MAX(variant) AS max_variant
  FROM phase_exposures
  GROUP BY
    unit_id
), exposed AS MATERIALIZED (
  SELECT
    f.unit_id,
    f.first_ts,
    f.variant
  FROM first_exposures AS f
  WHERE
    f.variant = f.max_variant AND f.variant IN ('control', 'treatment')
), f_events AS MATERIALIZED (
  SELECT
    u.unit_id,
    ev."event" AS step,
    ev."timestamp" AS ts
  FROM exposed AS u
  JOIN "events" AS ev
    ON ev."unit_id" = u.unit_id
    AND ev."event" IN ('cart', 'purchase', 'view')
    AND ev."timestamp" >= u.first_ts
    AND (
      ev."country" <> 'it''s'
    )
), f_s1 AS (
  SELECT
    unit_id,
    MIN(ts) AS t
  FROM f_events
  WHERE
    step = 'view'
  GROUP BY
    unit_id
), f_s2 AS (
  SELECT
    p.unit_id,
    MIN(e.ts) AS t
  FROM f_s1 AS p
  JOIN f_events AS e
    ON e.unit_id = p.unit_id AND e.step = 'cart' AND e.ts > p.t
  GROUP BY
    p.unit_id
), f_s3 AS (
  SELECT
    p.unit_id,
    MIN(e.ts) AS t
  FROM f_s2 AS p
  JOIN f_events AS e
    ON e.unit_id = p.unit_id AND e.step = 'purchase' AND e.ts > p.t
  GROUP BY
    p.unit_id
), f_reach AS (
  SELECT
    unit_id,
    MAX(step) AS depth
  FROM (
    SELECT
      unit_id,
      1 AS step
    FROM f_s1
    WHERE
      NOT t IS NULL
    UNION ALL
    SELECT
      unit_id,
      2 AS step
    FROM f_s2
    WHERE
      NOT t IS NULL
    UNION ALL
    SELECT
      unit_id,
      3 AS step
    FROM f_s3
    WHERE
      NOT t IS NULL
  ) AS r
  GROUP BY
    unit_id
), f_groups AS (
  SELECT
    u.variant AS variant,
    CAST(COUNT(*) AS DOUBLE) AS n,
    CAST(SUM(CASE WHEN COALESCE(r.depth, 0) >= 1 THEN 1 ELSE 0 END) AS DOUBLE) AS reached_1,
    CAST(SUM(CASE WHEN COALESCE(r.depth, 0) >= 2 THEN 1 ELSE 0 END) AS DOUBLE) AS reached_2,
    CAST(SUM(CASE WHEN COALESCE(r.depth, 0) >= 3 THEN 1 ELSE 0 END) AS DOUBLE) AS reached_3
  FROM exposed AS u
  LEFT JOIN f_reach AS r
    ON r.unit_id = u.unit_id
  GROUP BY
    1
)
SELECT
  *
FROM f_groups
ORDER BY
  variant
