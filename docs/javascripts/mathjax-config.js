// MathJax settings for the formulas that pymdownx.arithmatex marks (generic mode: \( \) and \[ \]).
// Only elements of class "arithmatex" are typeset; the rest of the page is left alone.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".*",
    processHtmlClass: "arithmatex",
  },
};
