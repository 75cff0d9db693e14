WITH phase_exposures AS NOT MATERIALIZED (
  SELECT
    "unit_id" AS unit_id,
    "variant" AS variant,
    "timestamp" AS ts
  FROM "exposures"
  WHERE
    "experiment" = 'checkout' AND "phase" = 1
), first_exposures AS NOT MATERIALIZED (
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
    un."pre_spend" AS m6_x2
  FROM first_exposures AS f
  LEFT JOIN "units" AS un
    ON un."unit_id" = f.unit_id
  WHERE
    f.variant = f.max_variant AND f.variant IN ('control', 'treatment')
), days AS (
  SELECT
    CAST(first_ts AS DATE) AS day
  FROM exposed
  UNION
  SELECT
    CAST("timestamp" AS DATE) AS day
  FROM "events"
  WHERE
    "timestamp" >= (
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
    CAST(MAX(m2_y) AS DOUBLE) AS m2_y,
    CAST(MAX(m3_y) AS DOUBLE) AS m3_y,
    CAST(COUNT(m4_den) AS DOUBLE) AS m4_den,
    CAST(SUM(m5_y) AS DOUBLE) AS m5_y,
    CAST(COUNT(m6_x1) AS DOUBLE) AS m6_x1,
    CAST(MAX(m7_y) AS DOUBLE) AS m7_y,
    CAST(SUM(m8_x1) AS DOUBLE) AS m8_x1
  FROM (
    SELECT
      u.unit_id,
      GREATEST(CAST(ev."timestamp" AS DATE), CAST(u.first_ts AS DATE)) AS day,
      CASE
        WHEN ev."event" = 'purchase' AND ev."timestamp" >= u.first_ts
        THEN ev."value"
      END AS m0_y,
      CASE WHEN ev."event" = 'purchase' AND ev."timestamp" >= u.first_ts THEN 1 END AS m1_y,
      CASE WHEN ev."event" = 'view' AND ev."timestamp" >= u.first_ts THEN ev."value" END AS m2_y,
      CASE WHEN ev."event" = 'signup' AND ev."timestamp" >= u.first_ts THEN 1 END AS m3_y,
      CASE WHEN ev."event" = 'view' AND ev."timestamp" >= u.first_ts THEN 1 END AS m4_den,
      CASE
        WHEN ev."event" = 'purchase'
        AND ev."timestamp" >= u.first_ts + INTERVAL '3600' SECOND
        AND ev."timestamp" < u.first_ts + INTERVAL '86400' SECOND
        THEN ev."value"
      END AS m5_y,
      CASE
        WHEN ev."event" = 'view'
        AND ev."timestamp" >= u.first_ts - INTERVAL '1209600' SECOND
        AND ev."timestamp" < u.first_ts
        THEN 1
      END AS m6_x1,
      CASE WHEN ev."event" = 'view' AND ev."timestamp" >= u.first_ts THEN ev."neg" END AS m7_y,
      CASE
        WHEN ev."event" = 'purchase' AND ev."timestamp" >= u.first_ts
        THEN ev."value"
      END AS m8_x1
    FROM exposed AS u
    JOIN "events" AS ev
      ON ev."unit_id" = u.unit_id
      AND ev."event" IN ('purchase', 'signup', 'view')
      AND ev."timestamp" >= u.first_ts - INTERVAL '1209600' SECOND
    UNION ALL
    SELECT
      unit_id,
      CAST(first_ts AS DATE) AS day,
      CAST(NULL AS DOUBLE) AS m0_y,
      CAST(NULL AS DOUBLE) AS m1_y,
      CAST(NULL AS DOUBLE) AS m2_y,
      CAST(NULL AS DOUBLE) AS m3_y,
      CAST(NULL AS DOUBLE) AS m4_den,
      CAST(NULL AS DOUBLE) AS m5_y,
      CAST(NULL AS DOUBLE) AS m6_x1,
      CAST(NULL AS DOUBLE) AS m7_y,
      CAST(NULL AS DOUBLE) AS m8_x1
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
      SUM(m0_y) OVER (PARTITION BY unit_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
      0
    ) AS m0_y,
    COALESCE(
      SUM(m1_y) OVER (PARTITION BY unit_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
      0
    ) AS m1_y,
    COALESCE(
      MAX(m2_y) OVER (PARTITION BY unit_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
      0
    ) AS m2_y,
    COALESCE(
      MAX(m3_y) OVER (PARTITION BY unit_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
      0
    ) AS m3_y,
    COALESCE(
      SUM(m4_den) OVER (PARTITION BY unit_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
      0
    ) AS m4_den,
    COALESCE(
      SUM(m5_y) OVER (PARTITION BY unit_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
      0
    ) AS m5_y,
    COALESCE(SUM(m6_x1) OVER (PARTITION BY unit_id), 0) AS m6_x1,
    COALESCE(
      MAX(m7_y) OVER (PARTITION BY unit_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
      0
    ) AS m7_y,
    COALESCE(SUM(m8_x1) OVER (PARTITION BY unit_id), 0) AS m8_x1,
    COALESCE(
      SUM(m0_y) OVER (PARTITION BY unit_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
      0
    ) AS m0_y__prev,
    COALESCE(
      SUM(m1_y) OVER (PARTITION BY unit_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
      0
    ) AS m1_y__prev,
    COALESCE(
      MAX(m2_y) OVER (PARTITION BY unit_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
      0
    ) AS m2_y__prev,
    COALESCE(
      MAX(m3_y) OVER (PARTITION BY unit_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
      0
    ) AS m3_y__prev,
    COALESCE(
      SUM(m4_den) OVER (PARTITION BY unit_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
      0
    ) AS m4_den__prev,
    COALESCE(
      SUM(m5_y) OVER (PARTITION BY unit_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
      0
    ) AS m5_y__prev,
    COALESCE(
      MAX(m7_y) OVER (PARTITION BY unit_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
      0
    ) AS m7_y__prev,
    COUNT(*) OVER (PARTITION BY unit_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier
  FROM unit_days
), unit_values AS (
  SELECT
    r.unit_id,
    r.day,
    e.variant,
    r.m0_y,
    r.m1_y,
    r.m2_y,
    r.m3_y,
    r.m4_den,
    r.m5_y,
    r.m6_x1,
    r.m7_y,
    r.m8_x1,
    r.m0_y__prev,
    r.m1_y__prev,
    r.m2_y__prev,
    r.m3_y__prev,
    r.m4_den__prev,
    r.m5_y__prev,
    r.m7_y__prev,
    CAST(COALESCE(e.m6_x2, 0) AS DOUBLE) AS m6_x2,
    r.earlier
  FROM unit_running AS r
  JOIN exposed AS e
    ON e.unit_id = r.unit_id
), unit_changes AS (
  SELECT
    variant,
    day,
    1 AS n,
    m0_y AS m0__y,
    m0_y * m0_y AS m0__y__y,
    m1_y AS m1__y,
    m1_y * m1_y AS m1__y__y,
    m2_y AS m2__y,
    m2_y * m2_y AS m2__y__y,
    m3_y AS m3__y,
    m3_y * m3_y AS m3__y__y,
    m0_y AS m4__num,
    m0_y * m0_y AS m4__num__num,
    m0_y * m4_den AS m4__num__den,
    m4_den AS m4__den,
    m4_den * m4_den AS m4__den__den,
    m5_y AS m5__y,
    m5_y * m5_y AS m5__y__y,
    m4_den AS m6__y,
    m4_den * m4_den AS m6__y__y,
    m4_den * m6_x1 AS m6__y__x1,
    m4_den * m6_x2 AS m6__y__x2,
    m6_x1 AS m6__x1,
    m6_x1 * m6_x1 AS m6__x1__x1,
    m6_x1 * m6_x2 AS m6__x1__x2,
    m6_x2 AS m6__x2,
    m6_x2 * m6_x2 AS m6__x2__x2,
    m7_y AS m7__y,
    m7_y * m7_y AS m7__y__y,
    m0_y AS m8__y,
    m0_y * m0_y AS m8__y__y,
    m0_y * m8_x1 AS m8__y__x1,
    m8_x1 AS m8__x1,
    m8_x1 * m8_x1 AS m8__x1__x1
  FROM unit_values
  UNION ALL
  SELECT
    variant,
    day,
    -(
      1
    ) AS n,
    -(
      m0_y
    ) AS m0__y,
    -(
      m0_y * m0_y
    ) AS m0__y__y,
    -(
      m1_y
    ) AS m1__y,
    -(
      m1_y * m1_y
    ) AS m1__y__y,
    -(
      m2_y
    ) AS m2__y,
    -(
      m2_y * m2_y
    ) AS m2__y__y,
    -(
      m3_y
    ) AS m3__y,
    -(
      m3_y * m3_y
    ) AS m3__y__y,
    -(
      m0_y
    ) AS m4__num,
    -(
      m0_y * m0_y
    ) AS m4__num__num,
    -(
      m0_y * m4_den
    ) AS m4__num__den,
    -(
      m4_den
    ) AS m4__den,
    -(
      m4_den * m4_den
    ) AS m4__den__den,
    -(
      m5_y
    ) AS m5__y,
    -(
      m5_y * m5_y
    ) AS m5__y__y,
    -(
      m4_den
    ) AS m6__y,
    -(
      m4_den * m4_den
    ) AS m6__y__y,
    -(
      m4_den * m6_x1
    ) AS m6__y__x1,
    -(
      m4_den * m6_x2
    ) AS m6__y__x2,
    -(
      m6_x1
    ) AS m6__x1,
    -(
      m6_x1 * m6_x1
    ) AS m6__x1__x1,
    -(
      m6_x1 * m6_x2
    ) AS m6__x1__x2,
    -(
      m6_x2
    ) AS m6__x2,
    -(
      m6_x2 * m6_x2
    ) AS m6__x2__x2,
    -(
      m7_y
    ) AS m7__y,
    -(
      m7_y * m7_y
    ) AS m7__y__y,
    -(
      m0_y
    ) AS m8__y,
    -(
      m0_y * m0_y
    ) AS m8__y__y,
    -(
      m0_y * m8_x1
    ) AS m8__y__x1,
    -(
      m8_x1
    ) AS m8__x1,
    -(
      m8_x1 * m8_x1
    ) AS m8__x1__x1
  FROM (
    SELECT
      variant,
      day,
      m0_y__prev AS m0_y,
      m1_y__prev AS m1_y,
      m2_y__prev AS m2_y,
      m3_y__prev AS m3_y,
      m4_den__prev AS m4_den,
      m5_y__prev AS m5_y,
      m6_x1,
      m7_y__prev AS m7_y,
      m8_x1,
      m6_x2
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
    SUM(m2__y) AS m2__y,
    SUM(m2__y__y) AS m2__y__y,
    SUM(m3__y) AS m3__y,
    SUM(m3__y__y) AS m3__y__y,
    SUM(m4__num) AS m4__num,
    SUM(m4__num__num) AS m4__num__num,
    SUM(m4__num__den) AS m4__num__den,
    SUM(m4__den) AS m4__den,
    SUM(m4__den__den) AS m4__den__den,
    SUM(m5__y) AS m5__y,
    SUM(m5__y__y) AS m5__y__y,
    SUM(m6__y) AS m6__y,
    SUM(m6__y__y) AS m6__y__y,
    SUM(m6__y__x1) AS m6__y__x1,
    SUM(m6__y__x2) AS m6__y__x2,
    SUM(m6__x1) AS m6__x1,
    SUM(m6__x1__x1) AS m6__x1__x1,
    SUM(m6__x1__x2) AS m6__x1__x2,
    SUM(m6__x2) AS m6__x2,
    SUM(m6__x2__x2) AS m6__x2__x2,
    SUM(m7__y) AS m7__y,
    SUM(m7__y__y) AS m7__y__y,
    SUM(m8__y) AS m8__y,
    SUM(m8__y__y) AS m8__y__y,
    SUM(m8__y__x1) AS m8__y__x1,
    SUM(m8__x1) AS m8__x1,
    SUM(m8__x1__x1) AS m8__x1__x1
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
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS n,
    SUM(COALESCE(c.m0__y, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m0__y,
    SUM(COALESCE(c.m0__y__y, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m0__y__y,
    SUM(COALESCE(c.m1__y, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m1__y,
    SUM(COALESCE(c.m1__y__y, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m1__y__y,
    SUM(COALESCE(c.m2__y, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m2__y,
    SUM(COALESCE(c.m2__y__y, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m2__y__y,
    SUM(COALESCE(c.m3__y, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m3__y,
    SUM(COALESCE(c.m3__y__y, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m3__y__y,
    SUM(COALESCE(c.m4__num, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m4__num,
    SUM(COALESCE(c.m4__num__num, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m4__num__num,
    SUM(COALESCE(c.m4__num__den, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m4__num__den,
    SUM(COALESCE(c.m4__den, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m4__den,
    SUM(COALESCE(c.m4__den__den, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m4__den__den,
    SUM(COALESCE(c.m5__y, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m5__y,
    SUM(COALESCE(c.m5__y__y, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m5__y__y,
    SUM(COALESCE(c.m6__y, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m6__y,
    SUM(COALESCE(c.m6__y__y, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m6__y__y,
    SUM(COALESCE(c.m6__y__x1, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m6__y__x1,
    SUM(COALESCE(c.m6__y__x2, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m6__y__x2,
    SUM(COALESCE(c.m6__x1, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m6__x1,
    SUM(COALESCE(c.m6__x1__x1, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m6__x1__x1,
    SUM(COALESCE(c.m6__x1__x2, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m6__x1__x2,
    SUM(COALESCE(c.m6__x2, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m6__x2,
    SUM(COALESCE(c.m6__x2__x2, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m6__x2__x2,
    SUM(COALESCE(c.m7__y, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m7__y,
    SUM(COALESCE(c.m7__y__y, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m7__y__y,
    SUM(COALESCE(c.m8__y, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m8__y,
    SUM(COALESCE(c.m8__y__y, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m8__y__y,
    SUM(COALESCE(c.m8__y__x1, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m8__y__x1,
    SUM(COALESCE(c.m8__x1, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m8__x1,
    SUM(COALESCE(c.m8__x1__x1, 0)) OVER (
      PARTITION BY g.variant
      ORDER BY g.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS m8__x1__x1
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
  m.variant,
  m.day
