// capsim report: the page of a run file (docs/report.md). Chart ids name
// regions, classes and SKUs by their index in the file's labels.
'use strict';

(() => {
  const { data, el, section, definitions, table, chart, fanChart, withUnit, shown, color } = capsim;
  const p = data.provenance;
  const { regions, skus, classes } = data.labels;
  const budget = data.budget_usd; // null: no budget
  const figure = (name) => data.key_figures.find((k) => k.name === name);
  const ms = data.time.ms;

  capsim.header(
    `capsim report: ${p.scenario_name}`,
    `A run of ${capsim.count(p.paths, 'random future')}, ${capsim.count(p.steps, 'step')} of ${p.step_hours} h from ${p.start_date}`
  );
  capsim.main.append(
    definitions(
      capsim.provenanceRows().concat([
        ['steps', `${p.steps} of ${p.step_hours} h from ${p.start_date}`],
        ['written by', `capsim ${p.capsim_version}, ${p.created}`],
      ])
    )
  );

  // --- headline -------------------------------------------------------------
  const head = section('Headline');
  const cards = el('div', { class: 'cards' });
  head.append(cards);
  // A cell of a key figure: its value shown, and the number it shows.
  const cell = (k, stat, i = 0) => ({
    text: shown(k[stat][i], k.unit),
    value: k[stat][i],
    source: `key_figures/${k.name}/${stat}[${i}]`,
  });
  const rangeText = (k, i = 0) => `p05 ${withUnit(k.p05[i], k.unit)}, p95 ${withUnit(k.p95[i], k.unit)}, mean ${withUnit(k.mean[i], k.unit)}`;
  function card(id, title, k, note) {
    const big = el('div', { class: 'big', text: withUnit(k.p50[0], k.unit), 'data-value': k.p50[0], 'data-source': `key_figures/${k.name}/p50[0]` });
    const c = el('div', { class: 'card', id }, [el('h3', { text: title }), big, el('div', { class: 'range', text: 'median; ' + rangeText(k) })]);
    if (note) c.append(note);
    cards.append(c);
    return big;
  }
  const spend = figure('total_spend_usd');
  const over = data.prob_over_budget;
  const overNote = el('div', { class: 'range' }, [
    budget === null ? 'no budget set' : `budget ${withUnit(budget, 'USD')}; `,
    budget === null ? '' : el('strong', { id: 'prob-over-budget', text: `P(over budget) ${withUnit(over, 'probability')}`, 'data-value': over, 'data-source': 'key_figures@prob_over_budget' }),
  ]);
  const spendBig = card('card-spend', 'Total spend', spend, overNote);
  if (budget !== null && over > 0.5) spendBig.classList.add('warn');
  card('card-service', 'Inference service level (share of steps with no unserved inference)', figure('inference_service_level'));

  const stats = ['mean', 'p05', 'p50', 'p95'];
  const byLabel = (k, labels, first) =>
    labels.map((name, i) => [first(name)].concat(stats.map((s) => cell(k, s, i))));
  const unserved = figure('unserved_fraction');
  head.append(el('h3', { text: 'Unserved share of demand over the horizon, per class (%)' }));
  head.append(table(['class', 'mean', 'p05', 'p50', 'p95'], byLabel(unserved, classes, (c) => c), { id: 'unserved-by-class' }));
  const regionUnserved = figure('region_unserved_fraction');
  const regionSpend = figure('region_spend_usd');
  if (regionUnserved && regionSpend) {
    head.append(el('h3', { text: 'Per region: unserved share of demand (%) and spend (M USD)' }));
    const rows = regions.map((r, i) =>
      [r].concat(stats.map((s) => cell(regionUnserved, s, i)), stats.map((s) => cell(regionSpend, s, i)))
    );
    head.append(table(['region'].concat(stats.map((s) => `unserved ${s}`), stats.map((s) => `spend ${s}`)), rows, { id: 'by-region' }));
  }

  // --- spend --------------------------------------------------------------
  const money = section('Spend against the budget');
  const moneyGrid = el('div', { class: 'grid' });
  money.append(moneyGrid);
  const budgetLine = budget === null ? [] : [{
    label: 'budget', data: [{ x: ms[0], y: budget }, { x: ms[ms.length - 1], y: budget }],
    borderColor: '#b3261e', borderDash: [8, 4], borderWidth: 2, capsimSource: { attribute: 'budget_usd' },
  }];
  fanChart(moneyGrid, 'spend', {
    title: 'Cumulative spend (capex + opex) against the budget', yTitle: 'cumulative spend',
    groups: [{ label: 'cumulative spend', series: 'spend_cum_usd', cell: 0 }], lines: budgetLine,
  });

  const h = data.spend_histogram;
  if (h.edges.length) {
    const steps = h.edges.map((x, i) => ({ x, y: h.counts[Math.min(i, h.counts.length - 1)] }));
    const top = Math.max(...h.counts);
    const sets = [{
      label: 'paths', data: steps, stepped: 'after', fill: 'origin', borderColor: color(0),
      backgroundColor: capsim.rgba(color(0), 0.3), borderWidth: 1.5, pointRadius: 0,
      capsimSource: { histogram: 'paths/key_figures/total_spend_usd' }, capsimLegend: true,
    }];
    if (budget !== null)
      sets.push({
        label: 'budget', data: [{ x: budget, y: 0 }, { x: budget, y: top }], borderColor: '#b3261e',
        borderDash: [8, 4], borderWidth: 2, pointRadius: 0, fill: false,
        capsimSource: { attribute: 'budget_usd' }, capsimLegend: true,
      });
    chart(moneyGrid, 'spend-distribution', {
      type: 'line',
      data: { datasets: sets },
      options: {
        parsing: false,
        scales: {
          x: capsim.valueAxis('total spend over the horizon', 'USD'),
          y: { type: 'linear', beginAtZero: true, title: { display: true, text: 'paths' }, ticks: { precision: 0 } },
        },
        plugins: {
          title: { display: true, text: 'Distribution of total spend over the paths', font: { size: 14 } },
          subtitle: {
            display: true,
            text: `${capsim.count(h.counts.length, 'equal bin')}${budget === null ? '' : `; P(over budget) ${withUnit(over, 'probability')}`}` +
              (h.not_finite ? `; ${capsim.count(h.not_finite, 'path')} not finite` : ''),
          },
          legend: capsim.legendOnlyMarked,
          tooltip: { callbacks: { label: (item) => (item.dataset.label === 'budget' ? `budget ${withUnit(budget, 'USD')}` : `${item.parsed.y} paths from ${withUnit(item.parsed.x, 'USD')}`) } },
        },
      },
    });
  }

  // --- per region -----------------------------------------------------------
  regions.forEach((region, r) => {
    const R = regions.length;
    const s = section(`Region ${region}`);
    const grid = el('div', { class: 'grid' });
    s.append(grid);
    fanChart(grid, `demand-r${r}`, {
      title: `${region}: demand of all classes against usable capacity`, yTitle: 'work',
      groups: [
        { label: 'demand (all classes)', series: 'region_demand_h100e_gpuh', cell: r, color: color(1) },
        { label: 'usable capacity', series: 'capacity_h100e_gpuh', cell: r, color: color(0) },
      ],
    });
    fanChart(grid, `utilization-r${r}`, {
      title: `${region}: utilization (busy / usable capacity)`, yTitle: 'utilization',
      groups: [{ label: 'utilization', series: 'utilization', cell: r, color: color(2) }],
    });
    fanChart(grid, `power-r${r}`, {
      title: `${region}: power against the power schedule`, yTitle: 'power',
      subtitle: ['facility power includes the PUE; the schedule caps the IT power', capsim.bandNote()],
      groups: [
        { label: 'facility power (IT x PUE)', series: 'power_mw', cell: r, color: color(3) },
        { label: 'IT power available (schedule)', series: 'power_cap_mw', cell: r, color: color(8) },
      ],
    });
    s.append(el('h3', { text: `${region}: unserved work per class` }));
    const unservedGrid = el('div', { class: 'grid' });
    s.append(unservedGrid);
    classes.forEach((klass, c) =>
      fanChart(unservedGrid, `unserved-r${r}-c${c}`, {
        title: `${region}, ${klass}: unserved work`, yTitle: 'unserved',
        groups: [{ label: `unserved ${klass}`, series: 'unserved_h100e_gpuh', cell: c * R + r, color: color(1) }],
      })
    );
    s.append(el('h3', { text: `${region}: GPUs per model` }));
    const gpuGrid = el('div', { class: 'grid' });
    s.append(gpuGrid);
    skus.forEach((sku, k) =>
      fanChart(gpuGrid, `gpus-r${r}-k${k}`, {
        title: `${region}, ${sku}: GPUs installed, failed, stranded, on order`, yTitle: 'count',
        groups: [
          { label: 'installed', series: 'gpus_installed', cell: k * R + r, color: color(0) },
          { label: 'failed', series: 'gpus_failed', cell: k * R + r, color: color(1) },
          { label: 'stranded (no power)', series: 'gpus_stranded', cell: k * R + r, color: color(4) },
          { label: 'on order', series: 'gpus_on_order', cell: k * R + r, color: color(2) },
        ],
      })
    );
  });

  // --- money markets --------------------------------------------------------
  const fx = section('Exchange rate');
  const fxGrid = el('div', { class: 'grid' });
  fx.append(fxGrid);
  fanChart(fxGrid, 'usd-jpy', {
    title: 'USD/JPY', yTitle: 'exchange rate',
    groups: [{ label: 'USD/JPY', series: 'usd_jpy', cell: 0, color: color(5) }],
  });

  // --- every key figure -----------------------------------------------------
  const all = section('All key figures');
  const rows = [];
  for (const k of data.key_figures) {
    const labels = k.dims === 'workload' ? classes : k.dims === 'region' ? regions : [null];
    labels.forEach((label, i) =>
      rows.push([label === null ? k.name : `${k.name}[${label}]`, capsim.display(k.unit).unit].concat(stats.map((s) => cell(k, s, i))))
    );
  }
  rows.push(['prob_over_budget', '%', { text: shown(over, 'probability'), value: over, source: 'key_figures@prob_over_budget' }, '', '', '']);
  all.append(el('div', { class: 'scroll' }, [table(['key figure', 'unit', 'mean', 'p05', 'p50', 'p95'], rows, { id: 'key-figures' })]));

  capsim.footer();
  capsim.finish();
})();
