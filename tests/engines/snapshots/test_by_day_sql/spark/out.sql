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
), exposed_days AS (
  SELECT
    e.*,
    d.day,
    CAST(d.day AS TIMESTAMP_NTZ) + INTERVAL '1' DAY AS cutoff
  FROM exposed AS e
  JOIN days AS d
    ON d.day >= CAST(e.first_ts AS DATE)
), unit_values AS (
  SELECT
    u.unit_id,
    u.day,
    u.variant,
    CAST(COALESCE(
      SUM(
        CASE
          WHEN ev.`event` = 'purchase'
          AND ev.`timestamp` >= u.first_ts
          AND ev.`timestamp` < u.cutoff
          THEN ev.`value`
        END
      ),
      0
    ) AS DOUBLE) AS m0_y,
    CAST(COUNT(
      CASE
        WHEN ev.`event` = 'view' AND ev.`timestamp` >= u.first_ts AND ev.`timestamp` < u.cutoff
        THEN 1
      END
    ) AS DOUBLE) AS m1_y,
    CAST(COUNT(
      CASE
        WHEN ev.`event` = 'view'
        AND ev.`timestamp` >= u.first_ts - INTERVAL '1209600' SECOND
        AND ev.`timestamp` < u.first_ts
        THEN 1
      END
    ) AS DOUBLE) AS m1_x1,
    CAST(COALESCE(MAX(u.m1_x2), 0) AS DOUBLE) AS m1_x2,
    CAST(COALESCE(
      SUM(
        CASE
          WHEN ev.`event` = 'purchase'
          AND ev.`timestamp` >= u.first_ts
          AND ev.`timestamp` < u.first_ts + INTERVAL '172800' SECOND
          AND ev.`timestamp` < u.cutoff
          THEN ev.`value`
        END
      ),
      0
    ) AS DOUBLE) AS m2_num,
    CAST(COUNT(
      CASE
        WHEN ev.`event` = 'view'
        AND ev.`timestamp` >= u.first_ts
        AND ev.`timestamp` < u.first_ts + INTERVAL '172800' SECOND
        AND ev.`timestamp` < u.cutoff
        THEN 1
      END
    ) AS DOUBLE) AS m2_den,
    CAST(COALESCE(
      SUM(
        CASE
          WHEN ev.`event` = 'purchase'
          AND ev.`timestamp` >= u.first_ts - INTERVAL '172800' SECOND
          AND ev.`timestamp` < u.first_ts
          THEN ev.`value`
        END
      ),
      0
    ) AS DOUBLE) AS m2_x1
  FROM exposed_days AS u
  LEFT JOIN `events` AS ev
    ON ev.`unit_id` = u.unit_id
    AND ev.`event` IN ('purchase', 'view')
    AND ev.`timestamp` >= u.first_ts - INTERVAL '1209600' SECOND
    AND ev.`timestamp` < u.cutoff
  GROUP BY
    1,
    2,
    3
), caps AS (
  SELECT
    day,
    PERCENTILE(m0_y, 0.9) AS m0_y_w0,
    PERCENTILE(m2_num, 0.95) AS m2_num_w1,
    PERCENTILE(m2_den, 0.95) AS m2_den_w2
  FROM unit_values
  GROUP BY
    day
), winsorized AS (
  SELECT
    v.*,
    LEAST(v.m0_y, c.m0_y_w0) AS m0_y_w0,
    LEAST(v.m2_num, c.m2_num_w1) AS m2_num_w1,
    LEAST(v.m2_den, c.m2_den_w2) AS m2_den_w2
  FROM unit_values AS v
  JOIN caps AS c
    ON c.day = v.day
), moments AS (
  SELECT
    variant,
    day,
    COUNT(*) AS n,
    SUM(m0_y_w0) AS m0__y,
    SUM(m0_y_w0 * m0_y_w0) AS m0__y__y,
    SUM(m1_y) AS m1__y,
    SUM(m1_y * m1_y) AS m1__y__y,
    SUM(m1_y * m1_x1) AS m1__y__x1,
    SUM(m1_y * m1_x2) AS m1__y__x2,
    SUM(m1_x1) AS m1__x1,
    SUM(m1_x1 * m1_x1) AS m1__x1__x1,
    SUM(m1_x1 * m1_x2) AS m1__x1__x2,
    SUM(m1_x2) AS m1__x2,
    SUM(m1_x2 * m1_x2) AS m1__x2__x2,
    SUM(m2_num_w1) AS m2__num,
    SUM(m2_num_w1 * m2_num_w1) AS m2__num__num,
    SUM(m2_num_w1 * m2_den_w2) AS m2__num__den,
    SUM(m2_num_w1 * m2_x1) AS m2__num__x1,
    SUM(m2_den_w2) AS m2__den,
    SUM(m2_den_w2 * m2_den_w2) AS m2__den__den,
    SUM(m2_den_w2 * m2_x1) AS m2__den__x1,
    SUM(m2_x1) AS m2__x1,
    SUM(m2_x1 * m2_x1) AS m2__x1__x1
  FROM winsorized
  GROUP BY
    variant,
    day
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
