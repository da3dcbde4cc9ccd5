/** Tailwind v3 configuration: scans the templ sources and the app script. */
module.exports = {
  content: ["./views/**/*.templ", "./static/app.js"],
  // Status badges are chosen by a status key at run time (badge-approved, …).
  safelist: [{ pattern: /^badge-/ }],
  theme: { extend: {} },
  plugins: [],
};
