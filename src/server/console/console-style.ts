/** The console's stylesheet: system fonts, high contrast, one column on a phone. */
export const consoleStyle = `
:root{--ink:#111;--muted:#4a4a4a;--line:#c8c8c8;--bg:#fff;--panel:#f4f5f7;--accent:#0b57d0;--bad:#a3000b;--good:#0a6b2b;--warn:#7a4d00}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
a{color:var(--accent)}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,summary:focus-visible{outline:3px solid #f0a500;outline-offset:2px}
header{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:center;padding:.6rem 1rem;border-bottom:1px solid var(--line);background:var(--panel)}
header .brand{font-weight:700;font-size:1.1rem;color:var(--ink);text-decoration:none}
nav ul{display:flex;flex-wrap:wrap;gap:1rem;list-style:none;margin:0;padding:0}
nav a[aria-current=page]{font-weight:700;color:var(--ink)}
header form{margin-left:auto;display:flex;gap:.5rem;align-items:center}
main{padding:1rem;max-width:1200px;margin:0 auto}
main:focus{outline:none}
h1{font-size:1.4rem;margin:.2rem 0 1rem}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
button{font:inherit;padding:.35rem .8rem;border:1px solid var(--accent);background:var(--accent);color:#fff;border-radius:4px;cursor:pointer}
button.secondary{background:#fff;color:var(--accent)}
button.danger{background:var(--bad);border-color:var(--bad)}
button:disabled{opacity:.6;cursor:not-allowed}
input,select,textarea{font:inherit;padding:.3rem .45rem;border:1px solid #767676;border-radius:4px;background:#fff;color:var(--ink)}
label{display:flex;flex-direction:column;gap:.15rem;font-size:.9rem;color:var(--muted)}
.filters{display:flex;flex-wrap:wrap;gap:.6rem;align-items:flex-end;margin-bottom:1rem}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--panel)}
td.number,th.number{text-align:right;font-variant-numeric:tabular-nums}
.status{font-weight:600}
.status-completed{color:var(--good)}.status-failed{color:var(--bad)}.status-waiting{color:var(--warn)}.status-stopped{color:var(--muted)}
.message{padding:.6rem .8rem;border-radius:4px;margin:.5rem 0;border:1px solid}
.message.error{background:#fdecee;border-color:var(--bad);color:var(--bad)}
.message.info{background:#eef4fd;border-color:var(--accent);color:#0a3f94}
.card{border:1px solid var(--line);border-radius:6px;padding:.7rem .9rem;margin:.6rem 0;background:#fff}
.card h3{margin:0 0 .3rem;font-size:1rem}
.meta{color:var(--muted);font-size:.88rem}
pre{white-space:pre-wrap;word-break:break-word;background:var(--panel);padding:.5rem;border-radius:4px;margin:.3rem 0;max-height:28rem;overflow:auto;font-size:.85rem}
details>summary{cursor:pointer;color:var(--accent)}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:1rem}
.stat{font-size:1.4rem;font-weight:700}
.bar{height:.8rem;background:var(--panel);border:1px solid var(--line);border-radius:3px;overflow:hidden}
.bar span{display:block;height:100%;background:var(--accent)}
.bar.over span{background:var(--bad)}
figure{margin:0}
figcaption{font-weight:600;margin-bottom:.3rem}
svg text{font:16px system-ui,sans-serif;fill:#222}
.legend{display:flex;flex-wrap:wrap;gap:.3rem .9rem;font-size:.85rem;list-style:none;padding:0;margin:.3rem 0}
.swatch{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle;border:1px solid #333}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end;margin:.5rem 0}
.sign-in{max-width:26rem;margin:3rem auto;padding:1.2rem;border:1px solid var(--line);border-radius:8px}
.sign-in form{display:flex;flex-direction:column;gap:.8rem}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.live{font-size:.85rem;color:var(--muted)}
img.artifact{max-width:100%;height:auto;border:1px solid var(--line)}
@media (max-width:640px){main{padding:.6rem}th.optional,td.optional{display:none}header form{margin-left:0}}
`;
