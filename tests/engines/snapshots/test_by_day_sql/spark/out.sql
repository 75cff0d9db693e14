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
    f.variant,
    un.`pre_spend` AS m1_x2
  FROM first_exposures AS f
  LEFT JOIN `units` AS un
    ON un.`unit_id` = f.unit_id
  WHERE
    f.variant = f.max_variant AND f.variant IN ('control', 'treatment')
), days AS (
  SELECT
    CAST(first_ts AS DATE) AS day
  FROM exposed
  UNION
  SELECT
    CAST(`timestamp` AS DATE) AS day
  FROM `events`
  WHERE
    `timestamp` >= (
      SELECT
        MIN(first_ts)
      FROM exposed
    )
), unit_days AS (
  SELECT
    unit_id,
    day,
    CAST(SUM(m0_y) AS DOUBLE) AS m0_y,
    CAST(COUNT(m1_y) AS DOUBLE) AS m1_y,
    CAST(COUNT(m1_x1) AS DOUBLE) AS m1_x1,
    CAST(SUM(m2_num) AS DOUBLE) AS m2_num,
    CAST(COUNT(m2_den) AS DOUBLE) AS m2_den,
    CAST(SUM(m2_x1) AS DOUBLE) AS m2_x1
  FROM (
    SELECT
      u.unit_id,
      GREATEST(CAST(ev.`timestamp` AS DATE), CAST(u.first_ts AS DATE)) AS day,
      CASE
        WHEN ev.`event` = 'purchase' AND ev.`timestamp` >= u.first_ts
        THEN ev.`value`
      END AS m0_y,
      CASE WHEN ev.`event` = 'view' AND ev.`timestamp` >= u.first_ts THEN 1 END AS m1_y,
      CASE
        WHEN ev.`event` = 'view'
        AND ev.`timestamp` >= u.first_ts - INTERVAL '1209600' SECOND
        AND ev.`timestamp` < u.first_ts
        THEN 1
      END AS m1_x1,
      CASE
        WHEN ev.`event` = 'purchase'
        AND ev.`timestamp` >= u.first_ts
        AND ev.`timestamp` < u.first_ts + INTERVAL '172800' SECOND
        THEN ev.`value`
      END AS m2_num,
      CASE
        WHEN ev.`event` = 'view'
        AND ev.`timestamp` >= u.first_ts
        AND ev.`timestamp` < u.first_ts + INTERVAL '172800' SECOND
        THEN 1
      END AS m2_den,
      CASE
        WHEN ev.`event` = 'purchase'
        AND ev.`timestamp` >= u.first_ts - INTERVAL '172800' SECOND
        AND ev.`timestamp` < u.first_ts
        THEN ev.`value`
      END AS m2_x1
    FROM exposed AS u
    JOIN `events` AS ev
      ON ev.`unit_id` = u.unit_id
      AND ev.`event` IN ('purchase', 'view')
      AND ev.`timestamp` >= u.first_ts - INTERVAL '1209600' SECOND
    UNION ALL
    SELECT
      unit_id,
      CAST(first_ts AS DATE) AS day,
      CAST(NULL AS DOUBLE) AS m0_y,
      CAST(NULL AS DOUBLE) AS m1_y,
      CAST(NULL AS DOUBLE) AS m1_x1,
      CAST(NULL AS DOUBLE) AS m2_num,
      CAST(NULL AS DOUBLE) AS m2_den,
      CAST(NULL AS DOUBLE) AS m2_x1
    FROM exposed
  ) AS unit_events
  GROUP BY
    unit_id,
    day
), unit_running AS (
  SELECT
    unit_id,
    day,
    COALESCE(
      SUM(m0_y) OVER (
        PARTITION BY unit_id
        ORDER BY day NULLS LAST
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      ),
      0
    ) AS m0_y,
    COALESCE(
      SUM(m1_y) OVER (
        PARTITION BY unit_id
        ORDER BY day NULLS LAST
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      ),
      0
    ) AS m1_y,
    COALESCE(SUM(m1_x1) OVER (PARTITION BY unit_id), 0) AS m1_x1,
    COALESCE(
      SUM(m2_num) OVER (
        PARTITION BY unit_id
        ORDER BY day NULLS LAST
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      ),
      0
    ) AS m2_num,
    COALESCE(
      SUM(m2_den) OVER (
        PARTITION BY unit_id
        ORDER BY day NULLS LAST
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      ),
      0
    ) AS m2_den,
    COALESCE(SUM(m2_x1) OVER (PARTITION BY unit_id), 0) AS m2_x1,
    COALESCE(
      SUM(m0_y) OVER (
        PARTITION BY unit_id
        ORDER BY day NULLS LAST
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
      ),
      0
    ) AS m0_y__prev,
    COALESCE(
      SUM(m1_y) OVER (
        PARTITION BY unit_id
        ORDER BY day NULLS LAST
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
      ),
      0
    ) AS m1_y__prev,
    COALESCE(
      SUM(m2_num) OVER (
        PARTITION BY unit_id
        ORDER BY day NULLS LAST
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
      ),
      0
    ) AS m2_num__prev,
    COALESCE(
      SUM(m2_den) OVER (
        PARTITION BY unit_id
        ORDER BY day NULLS LAST
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
      ),
      0
    ) AS m2_den__prev,
    COUNT(*) OVER (
      PARTITION BY unit_id
      ORDER BY day NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) AS earlier
  FROM unit_days
), unit_values AS (
  SELECT
    r.unit_id,
    r.day,
    e.variant,
    r.m0_y,
    r.m1_y,
    r.m1_x1,
    r.m2_num,
    r.m2_den,
    r.m2_x1,
    r.m0_y__prev,
    r.m1_y__prev,
    r.m2_num__prev,
    r.m2_den__prev,
    CAST(COALESCE(e.m1_x2, 0) AS DOUBLE) AS m1_x2,
    r.earlier
  FROM unit_running AS r
  JOIN exposed AS e
    ON e.unit_id = r.unit_id
), unit_changes AS (
  SELECT
    variant,
    day,
    1 AS n,
    LEAST(m0_y, 41.5) AS m0__y,
    LEAST(m0_y, 41.5) * LEAST(m0_y, 41.5) AS m0__y__y,
    m1_y AS m1__y,
    m1_y * m1_y AS m1__y__y,
    m1_y * m1_x1 AS m1__y__x1,
    m1_y * m1_x2 AS m1__y__x2,
    m1_x1 AS m1__x1,
    m1_x1 * m1_x1 AS m1__x1__x1,
    m1_x1 * m1_x2 AS m1__x1__x2,
    m1_x2 AS m1__x2,
    m1_x2 * m1_x2 AS m1__x2__x2,
    LEAST(m2_num, 12.25) AS m2__num,
    LEAST(m2_num, 12.25) * LEAST(m2_num, 12.25) AS m2__num__num,
    LEAST(m2_num, 12.25) * LEAST(m2_den, 3.0) AS m2__num__den,
    LEAST(m2_num, 12.25) * m2_x1 AS m2__num__x1,
    LEAST(m2_den, 3.0) AS m2__den,
    LEAST(m2_den, 3.0) * LEAST(m2_den, 3.0) AS m2__den__den,
    LEAST(m2_den, 3.0) * m2_x1 AS m2__den__x1,
    m2_x1 AS m2__x1,
    m2_x1 * m2_x1 AS m2__x1__x1
  FROM unit_values
  UNION ALL
  SELECT
    variant,
    day,
    -(
      1
    ) AS n,
    -(
      LEAST(m0_y, 41.5)
    ) AS m0__y,
    -(
      LEAST(m0_y, 41.5) * LEAST(m0_y, 41.5)
    ) AS m0__y__y,
    -(
      m1_y
    ) AS m1__y,
    -(
      m1_y * m1_y
    ) AS m1__y__y,
    -(
      m1_y * m1_x1
    ) AS m1__y__x1,
    -(
      m1_y * m1_x2
    ) AS m1__y__x2,
    -(
      m1_x1
    ) AS m1__x1,
    -(
      m1_x1 * m1_x1
    ) AS m1__x1__x1,
    -(
      m1_x1 * m1_x2
    ) AS m1__x1__x2,
    -(
      m1_x2
    ) AS m1__x2,
    -(
      m1_x2 * m1_x2
    ) AS m1__x2__x2,
    -(
      LEAST(m2_num, 12.25)
    ) AS m2__num,
    -(
      LEAST(m2_num, 12.25) * LEAST(m2_num, 12.25)
    ) AS m2__num__num,
    -(
      LEAST(m2_num, 12.25) * LEAST(m2_den, 3.0)
    ) AS m2__num__den,
    -(
      LEAST(m2_num, 12.25) * m2_x1
    ) AS m2__num__x1,
    -(
      LEAST(m2_den, 3.0)
    ) AS m2__den,
    -(
      LEAST(m2_den, 3.0) * LEAST(m2_den, 3.0)
    ) AS m2__den__den,
    -(
      LEAST(m2_den, 3.0) * m2_x1
    ) AS m2__den__x1,
    -(
      m2_x1
    ) AS m2__x1,
    -(
      m2_x1 * m2_x1
    ) AS m2__x1__x1
  FROM (
    SELECT
      variant,
      day,
      m0_y__prev AS m0_y,
      m1_y__prev AS m1_y,
      m1_x1,
      m2_num__prev AS m2_num,
      m2_den__prev AS m2_den,
      m2_x1,
      m1_x2
    FROM unit_values
    WHERE
      earlier > 0
  ) AS unit_before
), day_changes AS (
  SELECT
    variant,
    day,
    SUM(n) AS n,
    SUM(m0__y) AS m0__y,
    SUM(m0__y__y) AS m0__y__y,
    SUM(m1__y) AS m1__y,
    SUM(m1__y__y) AS m1__y__y,
    SUM(m1__y__x1) AS m1__y__x1,
    SUM(m1__y__x2) AS m1__y__x2,
    SUM(m1__x1) AS m1__x1,
    SUM(m1__x1__x1) AS m1__x1__x1,
    SUM(m1__x1__x2) AS m1__x1__x2,
    SUM(m1__x2) AS m1__x2,
    SUM(m1__x2__x2) AS m1__x2__x2,
    SUM(m2__num) AS m2__num,
    SUM(m2__num__num) AS m2__num__num,
    SUM(m2__num__den) AS m2__num__den,
    SUM(m2__num__x1) AS m2__num__x1,
    SUM(m2__den) AS m2__den,
    SUM(m2__den__den) AS m2__den__den,
    SUM(m2__den__x1) AS m2__den__x1,
    SUM(m2__x1) AS m2__x1,
    SUM(m2__x1__x1) AS m2__x1__x1
  FROM unit_changes
  GROUP BY
    variant,
    day
), day_sums AS (
  SELECT
    g.variant,
    g.day,
    SUM(COALESCE(c.n, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS n,
    SUM(COALESCE(c.m0__y, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m0__y,
    SUM(COALESCE(c.m0__y__y, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m0__y__y,
    SUM(COALESCE(c.m1__y, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m1__y,
    SUM(COALESCE(c.m1__y__y, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m1__y__y,
    SUM(COALESCE(c.m1__y__x1, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m1__y__x1,
    SUM(COALESCE(c.m1__y__x2, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m1__y__x2,
    SUM(COALESCE(c.m1__x1, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m1__x1,
    SUM(COALESCE(c.m1__x1__x1, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m1__x1__x1,
    SUM(COALESCE(c.m1__x1__x2, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m1__x1__x2,
    SUM(COALESCE(c.m1__x2, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m1__x2,
    SUM(COALESCE(c.m1__x2__x2, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m1__x2__x2,
    SUM(COALESCE(c.m2__num, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m2__num,
    SUM(COALESCE(c.m2__num__num, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m2__num__num,
    SUM(COALESCE(c.m2__num__den, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m2__num__den,
    SUM(COALESCE(c.m2__num__x1, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m2__num__x1,
    SUM(COALESCE(c.m2__den, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m2__den,
    SUM(COALESCE(c.m2__den__den, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m2__den__den,
    SUM(COALESCE(c.m2__den__x1, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m2__den__x1,
    SUM(COALESCE(c.m2__x1, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m2__x1,
    SUM(COALESCE(c.m2__x1__x1, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m2__x1__x1
  FROM (
    SELECT
      v.variant,
      d.day
    FROM (
      SELECT DISTINCT
        variant
      FROM day_changes
    ) AS v
    CROSS JOIN days AS d
  ) AS g
  LEFT JOIN day_changes AS c
    ON c.variant = g.variant AND c.day = g.day
), moments AS (
  SELECT
    *
  FROM day_sums
  WHERE
    n > 0
), sanity AS (
  SELECT
    (
      SELECT
        COUNT(*)
      FROM first_exposures
      WHERE
        variant <> max_variant
    ) AS multi_variant_units,
    0 AS pre_phase_exposures
)
SELECT
  m.*,
  s.multi_variant_units,
  s.pre_phase_exposures
FROM sanity AS s
LEFT JOIN moments AS m
  ON 1 = 1
ORDER BY
  m.variant NULLS LAST,
  m.day NULLS LAST
