/// corral.css: the whole stylesheet. System fonts, no images; laptop and tablet widths; visible keyboard focus.
extension Assets {
    public static let css = #"""
:root{--bg:#f4f6f8;--fg:#1c2430;--muted:#5b6776;--card:#fff;--line:#d8dee6;--accent:#1f6feb;--accent2:#0b4aa8;
--ok:#1a7f37;--warn:#b35900;--bad:#c62828;--never:#6e7781;--s0:#1f6feb;--s1:#2da44e;--s2:#bf8700;--s3:#8250df;--s4:#cf222e;--s5:#0a7ea4}
*{box-sizing:border-box}
[hidden]{display:none!important}
html{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg)}
body{margin:0}
a{color:var(--accent2)}
:focus-visible{outline:3px solid #f0b400;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:6px;z-index:9}
header.top{display:flex;flex-wrap:wrap;align-items:center;gap:6px 18px;background:#18212d;color:#e8edf3;padding:8px 18px}
header.top a{color:#e8edf3;text-decoration:none}
.brand{font-weight:700;font-size:1.2rem;letter-spacing:.02em}
header nav ul{display:flex;flex-wrap:wrap;gap:2px;list-style:none;margin:0;padding:0}
header nav a{display:block;padding:6px 10px;border-radius:6px}
header nav a:hover,header nav a[aria-current]{background:#2d3b4d}
.who{margin-left:auto;display:flex;align-items:center;gap:8px;font-size:.9rem}
.who .role{color:#a9b6c6}
.who button.link{color:#e8edf3}
#live{font-size:.8rem;color:#a9b6c6;white-space:nowrap;cursor:help}#live.on{color:#7ee787}
main{padding:18px;max-width:1500px;margin:0 auto}
h1{font-size:1.45rem;margin:.2rem 0 1rem}
h2{font-size:1.1rem;margin:0 0 .6rem}
.grid{display:grid;gap:16px;grid-template-columns:repeat(auto-fit,minmax(360px,1fr))}
.grid2{display:grid;gap:12px;grid-template-columns:repeat(auto-fit,minmax(220px,1fr))}
.grid2.perf{grid-template-columns:repeat(auto-fill,minmax(260px,420px))}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px;min-width:0}
.tiles{display:grid;gap:12px;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));margin-bottom:16px}
.tile{display:block;background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 16px;text-decoration:none;color:var(--fg)}
.tile b{display:block;font-size:1.9rem}
.tile.st-online b{color:var(--ok)}.tile.st-offline b{color:var(--warn)}.tile.st-never b{color:var(--never)}
.chart{margin:0}.chart svg{width:100%;height:auto;max-height:420px;font-size:12px}
.chart .lbl{fill:var(--fg)}.chart .val{fill:var(--muted)}.chart .small{font-size:10px}.chart .axis{stroke:var(--line)}
.chart a:hover rect,.chart a:focus rect{opacity:.75}
.spark .trend{fill:none;stroke:var(--accent);stroke-width:2}.spark .dot{fill:var(--accent2)}
.spark figcaption{font-size:12px}
.bar.s0{fill:var(--s0)}.bar.s1{fill:var(--s1)}.bar.s2{fill:var(--s2)}.bar.s3{fill:var(--s3)}.bar.s4{fill:var(--s4)}.bar.s5{fill:var(--s5)}
svg.stacked{height:28px;border-radius:6px}
rect.st-online{fill:var(--ok)}rect.st-offline{fill:var(--warn)}rect.st-never{fill:var(--never)}
.nodata,.muted,.more{color:var(--muted)}
table{border-collapse:collapse;width:100%;background:var(--card)}
.tablewrap{overflow-x:auto;border:1px solid var(--line);border-radius:10px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top;white-space:nowrap}
td.wrap{white-space:normal;min-width:12rem}
th{background:#eef2f6;font-weight:600;position:sticky;top:0}
th a{color:inherit;text-decoration:none}th a:hover{text-decoration:underline}
tbody tr:hover{background:#f6f9fc}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:.8rem;font-weight:600;color:#fff}
.badge.st-online,.badge.st-done{background:var(--ok)}.badge.st-offline,.badge.st-waiting,.badge.st-sent,.badge.st-pending{background:var(--warn)}
.badge.st-never,.badge.st-cancelled{background:var(--never)}.badge.st-fault{background:var(--bad)}
pre.diff .add{color:var(--ok)}pre.diff .del{color:var(--bad)}pre.diff .hunk{color:var(--muted,#667)}
.badge.st-critical,.badge.st-major,.badge.st-active{background:var(--bad)}.badge.st-minor{background:var(--warn)}.badge.st-warning{background:var(--never)}.badge.st-cleared{background:var(--ok)}
.chip{display:inline-block;background:#e7eefb;border-radius:8px;padding:0 6px;margin:0 2px 2px 0;font-size:.85rem}
form.filters{display:flex;flex-wrap:wrap;gap:8px 12px;align-items:flex-end;margin-bottom:12px}
label{display:flex;flex-direction:column;font-size:.85rem;color:var(--muted);gap:2px}
label.check{flex-direction:row;align-items:center;gap:6px;color:var(--fg)}
input,select,textarea,button{font:inherit}
textarea.code,pre.source{font-family:ui-monospace,monospace;font-size:13px}pre.source{max-height:420px;overflow:auto;background:#f7f9fb;border:1px solid var(--line);padding:8px;border-radius:6px}
input,select,textarea{padding:6px 8px;border:1px solid #b7c1cd;border-radius:6px;background:#fff;color:var(--fg);min-height:36px}
input[type=checkbox]{min-height:auto;width:18px;height:18px}
button,.button{display:inline-block;padding:7px 14px;border-radius:6px;border:1px solid var(--accent);background:var(--accent);color:#fff;
cursor:pointer;text-decoration:none;min-height:36px;line-height:1.4}
button:hover,.button:hover{background:var(--accent2)}
button.secondary,.button.secondary{background:#fff;color:var(--accent2)}
button.danger{background:var(--bad);border-color:var(--bad)}
button.link{background:none;border:none;color:var(--accent2);padding:0;min-height:auto;text-decoration:underline}
button:disabled{opacity:.55;cursor:progress}
.actions{display:flex;flex-wrap:wrap;gap:8px;align-items:center}
.inline{display:inline}
.stack{display:flex;flex-direction:column;gap:8px}
.row{display:flex;flex-wrap:wrap;gap:8px;align-items:flex-end}
output{display:block;font-size:.9rem;min-height:1.2em}
output.ok{color:var(--ok)}output.err{color:var(--bad)}output.busy{color:var(--muted)}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;margin:0}
dl.kv dt{color:var(--muted)}dl.kv dd{margin:0;overflow-wrap:anywhere}
meter{width:120px;height:14px}
progress{width:140px;height:14px;vertical-align:middle;accent-color:var(--ok)}
.badge.st-enabled,.badge.st-delivered{background:var(--ok)}.badge.st-disabled{background:var(--never)}.url{overflow-wrap:anywhere}
.badge.st-running{background:var(--accent)}.badge.st-paused{background:var(--warn)}.badge.st-stopped,.badge.st-failed{background:var(--bad)}
textarea{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.88rem;width:100%;max-width:100%}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f8fa;border:1px solid var(--line);padding:8px 10px;border-radius:6px}
.button[aria-current=page]{background:var(--accent);color:#fff}
fieldset{border:1px solid var(--line);border-radius:8px;padding:6px 10px}legend{font-size:.85rem;color:var(--muted)}
.pager{display:flex;gap:10px;align-items:center;margin:10px 0}
.bulk{display:flex;flex-wrap:wrap;gap:8px;align-items:flex-end;background:#eaf1fb;border:1px solid #c7d8f2;border-radius:10px;padding:8px 10px;margin-bottom:10px}
.tree details{margin-left:14px}.tree summary{cursor:pointer;padding:2px 0}.tree .leaf{margin-left:28px;padding:2px 0;display:flex;flex-wrap:wrap;gap:4px 10px;align-items:center}
.tree code{font-size:.88rem}.tree summary form button{min-height:24px;padding:0 8px;font-size:.8rem;background:#fff;color:var(--accent2)}.tree .type{color:var(--muted);font-size:.8rem}
.tree form{display:inline-flex;gap:4px;align-items:center}.tree form input{min-height:28px;padding:2px 6px}.tree form button{min-height:28px;padding:2px 8px}
.notice{background:#fff8e1;border:1px solid #f0d58c;border-radius:8px;padding:8px 12px}
.notice ul{margin:.4rem 0 0;padding-left:1.2rem}.notice li{margin:.25rem 0}
#attempts-live{margin-top:16px}.hints{margin-top:12px}.hints h3{font-size:1rem;margin:0 0 .4rem}.hints dl.kv{gap:6px 14px}
details.card{margin-top:12px}details.card summary{cursor:pointer;font-weight:600}details.card dl{margin-top:.6rem}
.error{background:#fdecea;border:1px solid #f2b8b5;border-radius:8px;padding:8px 12px}
.secret{font-family:monospace;background:#fff8e1;padding:4px 8px;border-radius:6px;overflow-wrap:anywhere}
.login{max-width:380px;margin:8vh auto}
.qr svg{width:200px;height:200px;max-width:100%}
#toast{position:fixed;bottom:12px;right:12px;max-width:min(560px,90vw);background:#18212d;color:#fff;border-radius:8px;padding:0;font-size:.9rem}
#toast:not(:empty){padding:8px 12px}#toast.err{background:var(--bad)}
@media (max-width:900px){main{padding:10px}.grid{grid-template-columns:1fr}th,td{padding:5px 6px}.hide-narrow{display:none}}
"""#
}
