import { describe, expect, it } from 'vitest'
import { normalizeNumber, normalizeText, scoreGaiaAnswer } from '../../src/eval/gaia-scorer.js'
import { parsePythonFloat } from '../../src/eval/python-float.js'

// Every verdict below was checked against the official scorer.py run by CPython 3.11.
type Case = [prediction: string | null, truth: string, correct: boolean]

const check = (cases: Case[]) => {
  for (const [prediction, truth, correct] of cases) {
    expect(scoreGaiaAnswer(prediction, truth), `${JSON.stringify(prediction)} vs ${JSON.stringify(truth)}`).toBe(
      correct,
    )
  }
}

describe('GAIA scorer: numbers (the true answer parses as a float)', () => {
  it('removes $, % and , from the prediction and compares floats', () => {
    check([
      ['$1,000', '1000', true],
      ['3.0', '3', true],
      ['3', '3.0', true],
      ['12%', '12', true],
      ['1,000,000', '1000000', true],
      [' 42 ', '42', true],
      ['1e3', '1000', true],
      ['-5', '-5', true],
      ['0.1', '.1', true],
      ['3.5', '3', false],
      ['5', '-5', false],
      ['42', '42.0001', false],
    ])
  })

  it('follows Python float(): underscores and any script’s digits count, words and empty text do not', () => {
    check([
      ['1_000', '1000', true],
      ['４２', '42', true],
      ['٤٢', '42', true],
      ['about 1000', '1000', false],
      ['', '0', false],
      ['inf', '1000', false],
      [null, '0', false],
    ])
    // A true answer written with a thousands comma is not a number for Python: it is a two-item list.
    check([['1000', '$1,000', false]])
  })

  it('keeps the official quirk: a prediction that is no number becomes infinity', () => {
    expect(normalizeNumber('not a number')).toBe(Number.POSITIVE_INFINITY)
    check([['x', 'inf', true]])
  })

  it('parses floats exactly where Python does', () => {
    expect(parsePythonFloat(' 1_000.5 ')).toBe(1000.5)
    expect(parsePythonFloat('\u00a012\u2003')).toBe(12)
    expect(parsePythonFloat('𝟙𝟚')).toBe(12)
    expect(parsePythonFloat('+.5e-3')).toBe(0.0005)
    expect(parsePythonFloat('-Infinity')).toBe(Number.NEGATIVE_INFINITY)
    expect(parsePythonFloat('NaN')).toBeNaN()
    for (const text of ['', '0x10', '1__0', '_1', '1_', '1.2.3', 'e5', '\u200b12', '1,000']) {
      expect(parsePythonFloat(text), text).toBeNull()
    }
  })
})

describe('GAIA scorer: lists (the true answer contains , or ;)', () => {
  it('splits both on , and ; and compares element by element, strings without whitespace and case', () => {
    check([
      ['apple, banana', 'apple, banana', true],
      ['Apple;Banana', 'apple, banana', true],
      ['a, b', 'a,b', true],
      ['New York, Paris', 'new york, paris', true],
      ['1; 2.0', '1, 2', true],
      ['b, a', 'a, b', false],
    ])
  })

  it('is wrong when the lengths differ, a trailing separator included', () => {
    check([
      ['apple, banana, cherry', 'apple, banana', false],
      ['apple', 'apple, banana', false],
      ['1, 2,', '1, 2', false],
      // The thousands comma splits the prediction into three items.
      ['1, $2,000', '1, 2000', false],
    ])
  })

  it('keeps punctuation inside list items', () => {
    check([['apple., banana', 'apple, banana', false]])
  })
})

describe('GAIA scorer: strings', () => {
  it('removes whitespace and ASCII punctuation and ignores case', () => {
    check([
      ['Sea Gull', 'seagull', true],
      ['st petersburg!', 'St. Petersburg', true],
      ['"Hello," world.', 'hello world', true],
      ["it's", 'its', true],
      ['St. Petersburg', 'Saint Petersburg', false],
    ])
    expect(normalizeText(' St. Petersburg ')).toBe('stpetersburg')
  })

  it('handles unicode as Python does: case folds, no accent folding, only ASCII punctuation removed', () => {
    check([
      ['café', 'Café', true],
      ['Zürich', 'ZÜRICH', true],
      ['東京', '東京', true],
      ['ΟΔΟΣ', 'οδος', true],
      ['cafe', 'café', false],
      ['Straße', 'STRASSE', false],
      ['don’t', 'dont', false],
      ['a\u00a0b', 'ab', true],
      // A zero-width space is not whitespace to Python.
      ['a\u200bb', 'ab', false],
    ])
  })

  it('scores a missing prediction as the text None', () => {
    check([
      [null, 'Paris', false],
      [null, 'None', true],
    ])
  })
})
