// Adult normal ranges for the chart's shading, used when the API's series carries none.
// Mirrors the adult bands of src/clinical/tables.rs (RANGES): the value between the low and
// high thresholds is "normal". Children's bands differ (tables.rs has them by age); the
// shading is a guide, the flags on the points come from hmis and are what counts.
import * as v from './vitals.js'

const MMOL = v.GLUCOSE_MG_DL_PER_MMOL_L

export const ADULT_RANGES = {
  [v.HEART_RATE]: [60, 100],
  [v.RESPIRATORY_RATE]: [12, 20],
  [v.SPO2]: [95, 100],
  [v.TEMPERATURE]: [36, 37.5],
  [v.SYSTOLIC]: [90, 140],
  [v.DIASTOLIC]: [60, 90],
  [v.GLUCOSE_MASS]: [70, 180],
  [v.GLUCOSE_MOLAR]: [70 / MMOL, 180 / MMOL],
  [v.BMI]: [18.5, 25],
}

/**
 * The normal range of one series: the API's when it answers one (`normal_range` as
 * `{low, high}` or `[low, high]`), else the adult table's, else null (weight, height).
 */
export function normalRange(code, series) {
  const given = series && (series.normal_range || series.normal || series.range)
  if (Array.isArray(given) && given.length === 2) return [Number(given[0]), Number(given[1])]
  if (given && typeof given === 'object' && ('low' in given || 'high' in given)) {
    const low = given.low === null || given.low === undefined ? -Infinity : Number(given.low)
    const high = given.high === null || given.high === undefined ? Infinity : Number(given.high)
    return [low, high]
  }
  return ADULT_RANGES[code] || null
}
