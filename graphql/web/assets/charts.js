// Small inline-SVG charts: a bar chart (training hours per year, counts)
// and a step chart (level progression over time). No library: a few
// hundred SVG elements at most, sized by viewBox so they scale on phones.
'use strict';
(function () {
  const NS = 'http://www.w3.org/2000/svg';
  function el(name, attrs, text) {
    const e = document.createElementNS(NS, name);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svgRoot(w, h, label) {
    const s = el('svg', { viewBox: '0 0 ' + w + ' ' + h, role: 'img', 'aria-label': label, class: 'chart', preserveAspectRatio: 'xMidYMid meet' });
    s.appendChild(el('title', {}, label));
    return s;
  }
  function niceMax(v) {
    if (v <= 0) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  // bars: [{label, value, title}] ; opts: {label, fmt(n)}
  function barChart(bars, opts) {
    const fmt = opts.fmt || String;
    const W = 640, H = 240, L = 44, R = 8, T = 16, B = 30;
    const s = svgRoot(W, H, opts.label);
    const max = niceMax(Math.max(0, ...bars.map(b => b.value)));
    const plotW = W - L - R, plotH = H - T - B;
    for (let i = 0; i <= 4; i++) {
      const v = max * i / 4, y = T + plotH - plotH * i / 4;
      s.appendChild(el('line', { x1: L, x2: W - R, y1: y, y2: y, class: 'grid' }));
      s.appendChild(el('text', { x: L - 6, y: y + 4, class: 'axis', 'text-anchor': 'end' }, fmt(v)));
    }
    const n = Math.max(bars.length, 1), slot = plotW / n, bw = Math.max(4, Math.min(48, slot * 0.7));
    const every = Math.ceil(n / 12);
    bars.forEach((b, i) => {
      const h = plotH * (b.value / max), x = L + slot * i + (slot - bw) / 2, y = T + plotH - h;
      const r = el('rect', { x: x, y: y, width: bw, height: Math.max(h, 0), class: 'bar', rx: 2 });
      r.appendChild(el('title', {}, (b.title || b.label) + ': ' + fmt(b.value)));
      s.appendChild(r);
      if (i % every === 0) s.appendChild(el('text', { x: x + bw / 2, y: H - 10, class: 'axis', 'text-anchor': 'middle' }, b.label));
      if (n <= 16 && b.value > 0) s.appendChild(el('text', { x: x + bw / 2, y: y - 4, class: 'val', 'text-anchor': 'middle' }, fmt(b.value)));
    });
    return s;
  }

  // series: [{name, points: [{t: Date, rank, title}]}]; opts: {label, levelName(rank), dateFmt(Date), now: Date}
  function stepChart(series, opts) {
    const W = 640, H = 260, L = 112, R = 12, T = 14, B = 44;
    const s = svgRoot(W, H, opts.label);
    const pts = series.flatMap(x => x.points);
    const plotW = W - L - R, plotH = H - T - B;
    const t0 = Math.min(...pts.map(p => p.t.getTime()));
    const t1 = Math.max(opts.now ? opts.now.getTime() : 0, ...pts.map(p => p.t.getTime()));
    const maxRank = Math.min(7, Math.max(3, ...pts.map(p => p.rank)) + 1);
    const x = t => L + (t1 === t0 ? plotW / 2 : plotW * (t - t0) / (t1 - t0));
    const y = r => T + plotH - plotH * r / maxRank;
    for (let r = 0; r <= maxRank; r++) {
      s.appendChild(el('line', { x1: L, x2: W - R, y1: y(r), y2: y(r), class: 'grid' }));
      s.appendChild(el('text', { x: L - 6, y: y(r) + 4, class: 'axis', 'text-anchor': 'end' }, opts.levelName(r)));
    }
    const y0 = new Date(t0).getUTCFullYear(), y1 = new Date(t1).getUTCFullYear();
    const step = Math.max(1, Math.ceil((y1 - y0 + 1) / 8));
    for (let yr = y0; yr <= y1 + 1; yr += step) {
      const t = Date.UTC(yr, 0, 1);
      if (t < t0 || t > t1) continue;
      s.appendChild(el('line', { x1: x(t), x2: x(t), y1: T, y2: T + plotH, class: 'grid' }));
      s.appendChild(el('text', { x: x(t), y: H - B + 16, class: 'axis', 'text-anchor': 'middle' }, String(yr)));
    }
    const legend = el('g', { class: 'legend' });
    series.forEach((ser, i) => {
      const cls = 'series s' + (i % 6);
      const p = ser.points.slice().sort((a, b) => a.t - b.t);
      if (!p.length) return;
      let d = 'M' + x(p[0].t.getTime()) + ' ' + y(p[0].rank);
      for (let k = 1; k < p.length; k++) d += ' H' + x(p[k].t.getTime()) + ' V' + y(p[k].rank);
      d += ' H' + x(t1);
      s.appendChild(el('path', { d: d, class: cls }));
      p.forEach(pt => {
        const c = el('circle', { cx: x(pt.t.getTime()), cy: y(pt.rank), r: 4, class: cls + ' dot' });
        c.appendChild(el('title', {}, ser.name + ': ' + opts.levelName(pt.rank) + ' · ' + opts.dateFmt(pt.t)));
        s.appendChild(c);
      });
      const lx = L + i * 170;
      legend.appendChild(el('rect', { x: lx, y: H - 14, width: 12, height: 4, class: cls + ' key' }));
      legend.appendChild(el('text', { x: lx + 16, y: H - 10, class: 'axis' }, ser.name.length > 22 ? ser.name.slice(0, 21) + '…' : ser.name));
    });
    s.appendChild(legend);
    return s;
  }

  window.CL_CHARTS = { barChart: barChart, stepChart: stepChart };
})();
