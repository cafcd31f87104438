/* The drawing canvas (#canvas, a dcc.Graph with plotly's dragmode off): every press draws a new stroke.
 *
 * Plotly's own drawing (dragmode "drawopenpath") makes drawn shapes editable, so a press on old ink
 * grabbed that stroke instead of starting a new one, and a tap drew nothing. Here old strokes never
 * take the pointer, and a tap is a dot. Pointer events cover mouse, pen and touch alike (the canvas'
 * `touch-action: none` in predict.css keeps a finger from scrolling the page). A finished stroke is
 * added to the figure and written to the `strokes` store: that store's change is the pen-up's request.
 * While the pen moves, assets/live.js reads the strokes so far (the `live-reading` switch).
 */
(function () {
    const WIDTH = 560, HEIGHT = 280;  // canvas units across and down: callbacks/figures.py canvas_figure
    const SVG = 'http://www.w3.org/2000/svg';
    let stroke = null;

    function plotArea(target) {
        return target instanceof Element ? target.closest('#canvas .nsewdrag') : null;
    }

    function toCanvas(event, box) {
        const x = (event.clientX - box.left) * WIDTH / box.width;
        const y = (event.clientY - box.top) * HEIGHT / box.height;
        return [Math.min(WIDTH, Math.max(0, x)), Math.min(HEIGHT, Math.max(0, y))];
    }

    function svgPath(points) {
        const xy = points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`);
        // A tap is a zero-length line: round caps draw it as a dot, and the rasteriser too.
        return `M${xy[0]}L${(xy.length > 1 ? xy.slice(1) : xy).join('L')}`;
    }

    /* The stroke being drawn, in an SVG of its own over the plot: plotly redraws only when it ends. */
    function startPreview(area, pen) {
        const svg = document.createElementNS(SVG, 'svg');
        svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
        svg.setAttribute('class', 'stroke-preview');
        const path = document.createElementNS(SVG, 'path');
        path.setAttribute('fill', 'none');
        path.setAttribute('stroke', pen.color);
        path.setAttribute('stroke-width', pen.width);
        path.setAttribute('stroke-linecap', 'round');
        path.setAttribute('stroke-linejoin', 'round');
        svg.appendChild(path);
        area.closest('.svg-container').appendChild(svg);
        return path;
    }

    function addPoints(event) {
        const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
        for (const e of (events.length ? events : [event])) {
            const [x, y] = toCanvas(e, stroke.box);
            const [lx, ly] = stroke.points[stroke.points.length - 1];
            if (Math.hypot(x - lx, y - ly) >= 1) stroke.points.push([x, y]);
        }
        stroke.preview.setAttribute('d', svgPath(stroke.points));
        if (window.liveReading) {  // assets/live.js: the strokes so far, when it sends them
            const {gd, points} = stroke;
            window.liveReading.moved(() => (gd.layout.shapes || []).map(s => s.path).concat([svgPath(points)]));
        }
    }

    document.addEventListener('pointerdown', event => {
        const area = plotArea(event.target);
        if (!area || stroke || (event.pointerType === 'mouse' && event.button !== 0)) return;
        const gd = area.closest('.js-plotly-plot');
        const pen = (gd.layout.newshape && gd.layout.newshape.line) || {color: '#1f2933', width: 22};
        event.preventDefault();  // no text selection, no plotly drag
        area.setPointerCapture(event.pointerId);
        const box = area.getBoundingClientRect();
        stroke = {id: event.pointerId, gd, pen, box, points: [toCanvas(event, box)], preview: startPreview(area, pen)};
        stroke.preview.setAttribute('d', svgPath(stroke.points));
    }, true);

    document.addEventListener('pointermove', event => {
        if (stroke && event.pointerId === stroke.id) addPoints(event);
    }, true);

    function finish(event) {
        if (!stroke || event.pointerId !== stroke.id) return;
        if (event.type === 'pointerup') addPoints(event);
        const {gd, pen, points, preview} = stroke;
        stroke = null;
        if (window.liveReading) window.liveReading.ended();  // the pen-up answer is the final one
        const shape = {type: 'path', path: svgPath(points), line: {color: pen.color, width: pen.width},
                       layer: 'below', editable: false};
        const shapes = (gd.layout.shapes || []).concat([shape]);
        window.dash_clientside.set_props('strokes', {data: shapes.map(s => s.path)});
        Promise.resolve(window.Plotly.relayout(gd, {shapes})).finally(() => preview.ownerSVGElement.remove());
    }
    document.addEventListener('pointerup', finish, true);
    document.addEventListener('pointercancel', finish, true);
})();
