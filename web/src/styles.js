// Sizes and colours that markup built as strings needs. The content security policy blocks
// `style="…"` attributes (no 'unsafe-inline'), so strings carry data-* attributes instead and
// these are applied through the CSSOM, which the policy allows.

/** Apply `data-width-mm` (column widths) and `data-swatch` (a legend colour) under `root`. */
export function applyDataStyles(root) {
  if (!root) return;
  for (const el of root.querySelectorAll('[data-width-mm]')) el.style.width = `${el.dataset.widthMm}mm`;
  for (const el of root.querySelectorAll('[data-swatch]')) el.style.background = el.dataset.swatch;
}
