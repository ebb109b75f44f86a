// The vital signs the patient page knows: LOINC codes, names, how each stored unit reads on
// screen, and what the chart's "Vital sign" select offers. Mirrors src/clinical/tables.rs
// (CATALOGUE): hmis stores canonical units (Cel, mm[Hg], kg/m2) and the page shows their
// usual spelling (°C, mmHg, kg/m²).

export const HEART_RATE = '8867-4'
export const RESPIRATORY_RATE = '9279-1'
export const SPO2 = '2708-6'
export const TEMPERATURE = '8310-5'
export const HEIGHT = '8302-2'
export const WEIGHT = '29463-7'
export const BMI = '39156-5'
export const BP_PANEL = '85354-9'
export const SYSTOLIC = '8480-6'
export const DIASTOLIC = '8462-4'
export const GLUCOSE_MASS = '2339-0'
export const GLUCOSE_MOLAR = '15074-8'
export const MUAC = '56072-2'

/** mg/dL per mmol/L of glucose (src/clinical/vitals.rs GLUCOSE_MG_DL_PER_MMOL_L). */
export const GLUCOSE_MG_DL_PER_MMOL_L = 18.016

const DEFS = {
  [HEART_RATE]: { label: 'Heart rate', decimals: 0 },
  [RESPIRATORY_RATE]: { label: 'Respiratory rate', decimals: 0 },
  [SPO2]: { label: 'SpO2', decimals: 0 },
  [TEMPERATURE]: { label: 'Temperature', decimals: 1 },
  [HEIGHT]: { label: 'Height', decimals: 1 },
  [WEIGHT]: { label: 'Weight', decimals: 1 },
  [BMI]: { label: 'BMI', decimals: 1 },
  [SYSTOLIC]: { label: 'Systolic BP', decimals: 0 },
  [DIASTOLIC]: { label: 'Diastolic BP', decimals: 0 },
  [GLUCOSE_MASS]: { label: 'Blood glucose', decimals: 0 },
  [GLUCOSE_MOLAR]: { label: 'Blood glucose', decimals: 1 },
  [MUAC]: { label: 'MUAC', decimals: 1 },
}

/** The order of the latest-vitals table. */
export const ORDER = [
  HEART_RATE, RESPIRATORY_RATE, SPO2, TEMPERATURE, SYSTOLIC, DIASTOLIC,
  WEIGHT, HEIGHT, BMI, GLUCOSE_MOLAR, GLUCOSE_MASS, MUAC,
]

const UNIT_TEXT = { Cel: '°C', '[degF]': '°F', 'mm[Hg]': 'mmHg', 'kg/m2': 'kg/m²', '[lb_av]': 'lb', '[in_i]': 'in' }

export function unitText(unit) {
  return UNIT_TEXT[unit] || unit || ''
}

export function label(code, fallback) {
  const def = DEFS[code]
  return def ? def.label : fallback || code
}

export function formatValue(code, value) {
  if (value === null || value === undefined || Number.isNaN(value)) return ''
  const def = DEFS[code]
  const decimals = def ? def.decimals : 1
  return Number(value).toFixed(decimals).replace(/\.0+$/, (m) => (decimals ? m : ''))
}

/**
 * What the chart offers. `codes` is what the chart query asks for; `series` the lines
 * drawn (blood pressure is two); glucose asks for both codes and draws them in mmol/L.
 */
export const CHARTS = [
  { key: HEART_RATE, label: 'Heart rate', unit: '/min', codes: [HEART_RATE] },
  { key: RESPIRATORY_RATE, label: 'Respiratory rate', unit: '/min', codes: [RESPIRATORY_RATE] },
  { key: SPO2, label: 'Oxygen saturation (SpO2)', unit: '%', codes: [SPO2] },
  { key: TEMPERATURE, label: 'Temperature', unit: '°C', codes: [TEMPERATURE] },
  { key: BP_PANEL, label: 'Blood pressure', unit: 'mmHg', codes: [BP_PANEL] },
  { key: WEIGHT, label: 'Weight', unit: 'kg', codes: [WEIGHT] },
  { key: HEIGHT, label: 'Height', unit: 'cm', codes: [HEIGHT] },
  { key: BMI, label: 'BMI', unit: 'kg/m²', codes: [BMI] },
  { key: GLUCOSE_MOLAR, label: 'Blood glucose', unit: 'mmol/L', codes: [GLUCOSE_MOLAR, GLUCOSE_MASS] },
  { key: MUAC, label: 'MUAC', unit: 'cm', codes: [MUAC] },
]

export const PERIODS = [
  { days: 7, label: 'Last 7 days' },
  { days: 30, label: 'Last 30 days' },
  { days: 90, label: 'Last 90 days' },
  { days: 365, label: 'Last year' },
]

/** Every code the readings table lists (the chart query expands the BP panel itself). */
export const ALL_CODES = [
  HEART_RATE, RESPIRATORY_RATE, SPO2, TEMPERATURE, BP_PANEL, WEIGHT, HEIGHT, BMI,
  GLUCOSE_MASS, GLUCOSE_MOLAR, MUAC,
]
