WITH phase_exposures AS NOT MATERIALIZED (
  SELECT
    "unit_id" AS unit_id,
    "variant" AS variant,
    "timestamp" AS ts
  FROM "exposures"
  WHERE
    "experiment" = 'checkout'
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
    un."tier" AS segment
  FROM first_exposures AS f
  LEFT JOIN "units" AS un
    ON un."unit_id" = f.unit_id
  WHERE
    f.variant = f.max_variant AND f.variant IN ('control', 'treatment')
), unit_values AS (
  SELECT
    u.unit_id,
    u.variant,
    COALESCE(CAST(u.segment AS TEXT), '(none)') AS segment,
    CAST(COALESCE(
      SUM(
        CASE
          WHEN ev."event" = 'purchase' AND ev."timestamp" >= u.first_ts
          THEN ev."value"
        END
      ),
      0
    ) AS DOUBLE) AS m0_y,
    CAST(COUNT(CASE WHEN ev."event" = 'purchase' AND ev."timestamp" >= u.first_ts THEN 1 END) AS DOUBLE) AS m1_y
  FROM exposed AS u
  LEFT JOIN "events" AS ev
    ON ev."unit_id" = u.unit_id
    AND ev."event" IN ('purchase')
    AND ev."timestamp" >= u.first_ts
  GROUP BY
    1,
    2,
    3
), moments AS (
  SELECT
    variant,
    segment,
    COUNT(*) AS n,
    SUM(m0_y) AS m0__y,
    SUM(m0_y * m0_y) AS m0__y__y,
    SUM(m1_y) AS m1__y,
    SUM(m1_y * m1_y) AS m1__y__y
  FROM unit_values
  GROUP BY
    variant,
    segment
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
  m.segment
