/**
 * Checksums for the regex layer's PII patterns: a match only counts when the digits
 * validate, which keeps order numbers, phone numbers and timestamps out.
 */
export type ValidatorName = 'card_luhn' | 'us_ssn' | 'iban_mod97';

export const VALIDATOR_NAMES = ['card_luhn', 'us_ssn', 'iban_mod97'] as const;

function digitsOf(s: string): string {
  return s.replace(/[^0-9]/g, '');
}

/** Luhn checksum over a digit string. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** A payment card number: 13-19 digits, a known issuer prefix (IIN), and a valid Luhn checksum. */
export function cardValid(match: string): boolean {
  const d = digitsOf(match);
  if (d.length < 13 || d.length > 19) return false;
  if (/^(\d)\1+$/.test(d)) return false; // 0000 0000 0000 0000 and the like
  const p2 = Number(d.slice(0, 2));
  const p4 = Number(d.slice(0, 4));
  const known =
    d[0] === '4' || // Visa
    (p2 >= 51 && p2 <= 55) ||
    (p4 >= 2221 && p4 <= 2720) || // Mastercard
    p2 === 34 ||
    p2 === 37 || // Amex
    d.startsWith('6011') ||
    d.startsWith('65') ||
    (Number(d.slice(0, 3)) >= 644 && Number(d.slice(0, 3)) <= 649) || // Discover
    p2 === 35 || // JCB
    p2 === 36 ||
    p2 === 38 ||
    (Number(d.slice(0, 3)) >= 300 && Number(d.slice(0, 3)) <= 305) || // Diners
    p2 === 62; // UnionPay
  return known && luhnValid(d);
}

/** A US Social Security number as issued: area 001-899 but not 666, group 01-99, serial 0001-9999. */
export function ssnValid(match: string): boolean {
  const d = digitsOf(match);
  if (d.length !== 9) return false;
  const area = Number(d.slice(0, 3));
  const group = Number(d.slice(3, 5));
  const serial = Number(d.slice(5));
  if (area === 0 || area === 666 || area >= 900) return false;
  if (group === 0 || serial === 0) return false;
  // well-known placeholders
  if (d === '123456789' || d === '078051120') return false;
  return true;
}

/** ISO 13616 IBAN: mod-97 of the rearranged number is 1. */
export function ibanValid(match: string): boolean {
  const s = match.replace(/ /g, '').toUpperCase();
  if (s.length < 15 || s.length > 34) return false;
  const re = s.slice(4) + s.slice(0, 4);
  let rem = 0;
  for (const ch of re) {
    const c = ch.charCodeAt(0);
    const v = c >= 65 && c <= 90 ? String(c - 55) : ch;
    for (const digit of v) rem = (rem * 10 + (digit.charCodeAt(0) - 48)) % 97;
  }
  return rem === 1;
}

export const VALIDATORS: Readonly<Record<ValidatorName, (match: string) => boolean>> = {
  card_luhn: cardValid,
  us_ssn: ssnValid,
  iban_mod97: ibanValid,
};
