WITH phase_exposures AS (
  SELECT
    `unit_id` AS unit_id,
    `variant` AS variant,
    `timestamp` AS ts
  FROM `exposures`
  WHERE
    `experiment` = 'checkout' AND `phase` = 1
), first_exposures AS (
  SELECT
    unit_id,
    MIN(ts) AS first_ts,
    MIN(variant) AS variant,
    MAX(variant) AS max_variant
  FROM phase_exposures
  GROUP BY
    unit_id
), exposed AS (
  SELECT
    f.unit_id,
    f.first_ts,
    f.variant
  FROM first_exposures AS f
  WHERE
    f.variant = f.max_variant AND f.variant IN ('control', 'treatment')
), f_events AS (
  SELECT
    u.unit_id,
    ev.`event` AS step,
    ev.`timestamp` AS ts
  FROM exposed AS u
  JOIN `events` AS ev
    ON ev.`unit_id` = u.unit_id
    AND ev.`event` IN ('cart', 'purchase', 'view')
    AND ev.`timestamp` >= u.first_ts
    AND (
      ev.`country` <> 'it\'s'
    )
), f_s1 AS (
  SELECT
    unit_id,
    ts AS start,
    ts AS t
  FROM f_events
  WHERE
    step = 'view'
), f_s2 AS (
  SELECT
    unit_id,
    start,
    CASE WHEN nxt <= start + INTERVAL '86400' SECOND THEN nxt END AS t
  FROM (
    SELECT
      unit_id,
      start,
      kind,
      MIN(CASE WHEN kind = 0 THEN ts END) OVER (
        PARTITION BY unit_id
        ORDER BY ts NULLS LAST, kind NULLS LAST
        ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING
      ) AS nxt
    FROM (
      SELECT
        unit_id,
        start,
        t AS ts,
        1 AS kind
      FROM f_s1
      WHERE
        NOT t IS NULL
      UNION ALL
      SELECT
        unit_id,
        CAST(NULL AS TIMESTAMP_NTZ) AS start,
        ts,
        0 AS kind
      FROM f_events
      WHERE
        step = 'cart'
    ) AS c
  ) AS w
  WHERE
    kind = 1
), f_s3 AS (
  SELECT
    unit_id,
    start,
    CASE WHEN nxt <= start + INTERVAL '86400' SECOND THEN nxt END AS t
  FROM (
    SELECT
      unit_id,
      start,
      kind,
      MIN(CASE WHEN kind = 0 THEN ts END) OVER (
        PARTITION BY unit_id
        ORDER BY ts NULLS LAST, kind NULLS LAST
        ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING
      ) AS nxt
    FROM (
      SELECT
        unit_id,
        start,
        t AS ts,
        1 AS kind
      FROM f_s2
      WHERE
        NOT t IS NULL
      UNION ALL
      SELECT
        unit_id,
        CAST(NULL AS TIMESTAMP_NTZ) AS start,
        ts,
        0 AS kind
      FROM f_events
      WHERE
        step = 'purchase'
    ) AS c
  ) AS w
  WHERE
    kind = 1
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
  variant NULLS LAST
