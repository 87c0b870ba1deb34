"""Finance and committee reports from the SQL projection.

- `model`: what each report holds (typed, Decimal money, dates as dates).
- `queries`: how the figures are obtained: SQL aggregation over the projection (budget by
  source) and pure functions over folded scheme states (programme, slippage, the pack).
- `render`: the same reports as a table, CSV, XLSX, JSON, HTML with inline SVG charts, and
  PDF (WeasyPrint).

It reads the projection the tracker writes and imports no other service.
"""
