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
), unit_values AS (
  SELECT
    u.unit_id,
    u.variant,
    CAST(COALESCE(
      SUM(
        CASE
          WHEN ev.`event` = 'purchase'
          AND ev.`timestamp` >= u.first_ts
          AND (
            ev.`country` = 'fr'
          )
          THEN ev.`value`
        END
      ),
      0
    ) AS DOUBLE) AS m0_y,
    CAST(COUNT(
      CASE
        WHEN ev.`event` = 'purchase'
        AND ev.`timestamp` >= u.first_ts
        AND (
          ev.`country` <> 'fr'
        )
        THEN 1
      END
    ) AS DOUBLE) AS m1_y,
    CAST(COUNT(
      CASE
        WHEN ev.`event` = 'view'
        AND ev.`timestamp` >= u.first_ts
        AND (
          ev.`country` IN ('fr', 'de')
        )
        THEN 1
      END
    ) AS DOUBLE) AS m2_y,
    CAST(MAX(
      CASE
        WHEN ev.`event` = 'view'
        AND ev.`timestamp` >= u.first_ts
        AND (
          NOT ev.`country` IN ('fr', 'de')
        )
        THEN 1
        ELSE 0
      END
    ) AS DOUBLE) AS m3_y,
    CAST(COALESCE(
      SUM(
        CASE
          WHEN ev.`event` = 'purchase'
          AND ev.`timestamp` >= u.first_ts
          AND (
            ev.`price` < 20
          )
          AND (
            ev.`device` = 'web'
          )
          THEN ev.`value`
        END
      ),
      0
    ) AS DOUBLE) AS m4_y,
    CAST(COALESCE(
      SUM(
        CASE
          WHEN ev.`event` = 'purchase'
          AND ev.`timestamp` >= u.first_ts
          AND (
            ev.`price` <= CAST(50.0 AS DOUBLE)
          )
          THEN ev.`value`
        END
      ),
      0
    ) AS DOUBLE) AS m5_y,
    CAST(COALESCE(
      SUM(
        CASE
          WHEN ev.`event` = 'purchase' AND ev.`timestamp` >= u.first_ts
          THEN ev.`value`
        END
      ),
      0
    ) AS DOUBLE) AS m6_y,
    CAST(COUNT(CASE WHEN ev.`event` = 'view' AND ev.`timestamp` >= u.first_ts THEN 1 END) AS DOUBLE) AS m8_den,
    CAST(COUNT(
      DISTINCT CASE
        WHEN ev.`event` = 'view' AND ev.`timestamp` >= u.first_ts
        THEN CAST(ev.`timestamp` AS DATE)
      END
    ) AS DOUBLE) AS m9_y
  FROM exposed AS u
  LEFT JOIN `events` AS ev
    ON ev.`unit_id` = u.unit_id
    AND ev.`event` IN ('purchase', 'view')
    AND ev.`timestamp` >= u.first_ts
  GROUP BY
    1,
    2
), caps AS (
  SELECT
    PERCENTILE(m6_y, 0.95) AS m6_y_w0,
    PERCENTILE(LEAST(m6_y, 30.0), 0.9) AS m6_y_w1,
    PERCENTILE(LEAST(m6_y, 30.0), 0.45) AS m6_y_w1_lo,
    PERCENTILE(LEAST(m6_y, 12.0), 0.35) AS m6_y_w2_lo,
    PERCENTILE(LEAST(m8_den, 12.0), 0.35) AS m8_den_w3_lo
  FROM unit_values
), winsorized AS (
  SELECT
    v.*,
    LEAST(v.m6_y, c.m6_y_w0) AS m6_y_w0,
    GREATEST(LEAST(LEAST(m6_y, 30.0), c.m6_y_w1), c.m6_y_w1_lo) AS m6_y_w1,
    GREATEST(LEAST(m6_y, 12.0), c.m6_y_w2_lo) AS m6_y_w2,
    GREATEST(LEAST(m8_den, 12.0), c.m8_den_w3_lo) AS m8_den_w3
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
    SUM(m5_y) AS m5__y,
    SUM(m5_y * m5_y) AS m5__y__y,
    SUM(m6_y_w0) AS m6__y,
    SUM(m6_y_w0 * m6_y_w0) AS m6__y__y,
    SUM(m6_y_w1) AS m7__y,
    SUM(m6_y_w1 * m6_y_w1) AS m7__y__y,
    SUM(m6_y_w2) AS m8__num,
    SUM(m6_y_w2 * m6_y_w2) AS m8__num__num,
    SUM(m6_y_w2 * m8_den_w3) AS m8__num__den,
    SUM(m8_den_w3) AS m8__den,
    SUM(m8_den_w3 * m8_den_w3) AS m8__den__den,
    SUM(m9_y) AS m9__y,
    SUM(m9_y * m9_y) AS m9__y__y
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
    0 AS pre_phase_exposures
)
SELECT
  m.*,
  s.multi_variant_units,
  s.pre_phase_exposures,
  k.m6_y_w0 AS cap__m6_y_w0,
  k.m6_y_w1 AS cap__m6_y_w1,
  k.m6_y_w1_lo AS cap__m6_y_w1_lo,
  k.m6_y_w2_lo AS cap__m6_y_w2_lo,
  k.m8_den_w3_lo AS cap__m8_den_w3_lo
FROM sanity AS s
LEFT JOIN moments AS m
  ON 1 = 1
CROSS JOIN caps AS k
ORDER BY
  m.variant NULLS LAST
