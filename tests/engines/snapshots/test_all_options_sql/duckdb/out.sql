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
  WHERE
    ts >= CAST('2024-03-01 12:00:00.000000' AS TIMESTAMP)
  GROUP BY
    unit_id
), exposed AS (
  SELECT
    f.unit_id,
    f.first_ts,
    f.variant,
    un."pre_spend" AS m8_x2
  FROM first_exposures AS f
  LEFT JOIN "units" AS un
    ON un."unit_id" = f.unit_id
  WHERE
    f.variant = f.max_variant AND f.variant IN ('control', 'treatment')
), unit_values AS (
  SELECT
    u.unit_id,
    u.variant,
    CAST(COALESCE(
      SUM(
        CASE
          WHEN ev."event" = 'purchase' AND ev."timestamp" >= u.first_ts
          THEN ev."value"
        END
      ),
      0
    ) AS DOUBLE) AS m0_y,
    CAST(COUNT(CASE WHEN ev."event" = 'purchase' AND ev."timestamp" >= u.first_ts THEN 1 END) AS DOUBLE) AS m1_y,
    CAST(COUNT(
      DISTINCT CASE
        WHEN ev."event" = 'purchase' AND ev."timestamp" >= u.first_ts
        THEN ev."item"
      END
    ) AS DOUBLE) AS m2_y,
    CAST(COALESCE(
      MAX(
        CASE WHEN ev."event" = 'view' AND ev."timestamp" >= u.first_ts THEN ev."value" END
      ),
      0
    ) AS DOUBLE) AS m3_y,
    CAST(MAX(
      CASE WHEN ev."event" = 'signup' AND ev."timestamp" >= u.first_ts THEN 1 ELSE 0 END
    ) AS DOUBLE) AS m4_y,
    CAST(COUNT(CASE WHEN ev."event" = 'view' AND ev."timestamp" >= u.first_ts THEN 1 END) AS DOUBLE) AS m5_den,
    CAST(COALESCE(
      SUM(
        CASE
          WHEN ev."event" = 'purchase'
          AND ev."timestamp" >= u.first_ts + INTERVAL '3600' SECOND
          AND ev."timestamp" < u.first_ts + INTERVAL '86400' SECOND
          THEN ev."value"
        END
      ),
      0
    ) AS DOUBLE) AS m6_y,
    CAST(COUNT(
      CASE
        WHEN ev."event" = 'view'
        AND ev."timestamp" >= u.first_ts - INTERVAL '1209600' SECOND
        AND ev."timestamp" < u.first_ts
        THEN 1
      END
    ) AS DOUBLE) AS m8_x1,
    CAST(COALESCE(MAX(u.m8_x2), 0) AS DOUBLE) AS m8_x2,
    CAST(COALESCE(
      SUM(
        CASE
          WHEN ev."event" = 'purchase'
          AND ev."timestamp" >= u.first_ts
          AND ev."timestamp" < u.first_ts + INTERVAL '172800' SECOND
          THEN ev."value"
        END
      ),
      0
    ) AS DOUBLE) AS m9_num,
    CAST(COUNT(
      CASE
        WHEN ev."event" = 'view'
        AND ev."timestamp" >= u.first_ts
        AND ev."timestamp" < u.first_ts + INTERVAL '172800' SECOND
        THEN 1
      END
    ) AS DOUBLE) AS m9_den,
    CAST(COALESCE(
      SUM(
        CASE
          WHEN ev."event" = 'purchase'
          AND ev."timestamp" >= u.first_ts - INTERVAL '172800' SECOND
          AND ev."timestamp" < u.first_ts
          THEN ev."value"
        END
      ),
      0
    ) AS DOUBLE) AS m9_x1
  FROM exposed AS u
  LEFT JOIN "events" AS ev
    ON ev."unit_id" = u.unit_id
    AND ev."event" IN ('purchase', 'signup', 'view')
    AND ev."timestamp" >= u.first_ts - INTERVAL '1209600' SECOND
  GROUP BY
    1,
    2
), caps AS (
  SELECT
    QUANTILE_CONT(m0_y, 0.9) AS m0_y_w0,
    QUANTILE_CONT(m9_num, 0.95) AS m9_num_w1,
    QUANTILE_CONT(m9_den, 0.95) AS m9_den_w2
  FROM unit_values
), winsorized AS (
  SELECT
    v.*,
    LEAST(v.m0_y, c.m0_y_w0) AS m0_y_w0,
    LEAST(v.m9_num, c.m9_num_w1) AS m9_num_w1,
    LEAST(v.m9_den, c.m9_den_w2) AS m9_den_w2
  FROM unit_values AS v
  CROSS JOIN caps AS c
), moments AS (
  SELECT
    variant,
    COUNT(*) AS n,
    SUM(m0_y) AS m0__y,
    SUM(m0_y * m0_y) AS m0__y__y,
    SUM(m1_y) AS m1__y,
    SUM(m1_y * m1_y) AS m1__y__y,
    SUM(m2_y) AS m2__y,
    SUM(m2_y * m2_y) AS m2__y__y,
    SUM(m3_y) AS m3__y,
    SUM(m3_y * m3_y) AS m3__y__y,
    SUM(m4_y) AS m4__y,
    SUM(m4_y * m4_y) AS m4__y__y,
    SUM(m0_y) AS m5__num,
    SUM(m0_y * m0_y) AS m5__num__num,
    SUM(m0_y * m5_den) AS m5__num__den,
    SUM(m5_den) AS m5__den,
    SUM(m5_den * m5_den) AS m5__den__den,
    SUM(m6_y) AS m6__y,
    SUM(m6_y * m6_y) AS m6__y__y,
    SUM(m0_y_w0) AS m7__y,
    SUM(m0_y_w0 * m0_y_w0) AS m7__y__y,
    SUM(m5_den) AS m8__y,
    SUM(m5_den * m5_den) AS m8__y__y,
    SUM(m5_den * m8_x1) AS m8__y__x1,
    SUM(m5_den * m8_x2) AS m8__y__x2,
    SUM(m8_x1) AS m8__x1,
    SUM(m8_x1 * m8_x1) AS m8__x1__x1,
    SUM(m8_x1 * m8_x2) AS m8__x1__x2,
    SUM(m8_x2) AS m8__x2,
    SUM(m8_x2 * m8_x2) AS m8__x2__x2,
    SUM(m9_num_w1) AS m9__num,
    SUM(m9_num_w1 * m9_num_w1) AS m9__num__num,
    SUM(m9_num_w1 * m9_den_w2) AS m9__num__den,
    SUM(m9_num_w1 * m9_x1) AS m9__num__x1,
    SUM(m9_den_w2) AS m9__den,
    SUM(m9_den_w2 * m9_den_w2) AS m9__den__den,
    SUM(m9_den_w2 * m9_x1) AS m9__den__x1,
    SUM(m9_x1) AS m9__x1,
    SUM(m9_x1 * m9_x1) AS m9__x1__x1
  FROM winsorized
  GROUP BY
    variant
), sanity AS (
  SELECT
    (
      SELECT
        COUNT(*)
      FROM first_exposures
      WHERE
        variant <> max_variant
    ) AS multi_variant_units,
    (
      SELECT
        COUNT(*)
      FROM phase_exposures
      WHERE
        ts < CAST('2024-03-01 12:00:00.000000' AS TIMESTAMP)
    ) AS pre_phase_exposures
)
SELECT
  m.*,
  s.multi_variant_units,
  s.pre_phase_exposures,
  k.m0_y_w0 AS cap__m0_y_w0,
  k.m9_den_w2 AS cap__m9_den_w2,
  k.m9_num_w1 AS cap__m9_num_w1
FROM sanity AS s
LEFT JOIN moments AS m
  ON 1 = 1
CROSS JOIN caps AS k
ORDER BY
  m.variant
