/* Live reading (the `live-reading` switch): while the pen moves, the top 3 and the map follow the
 * stroke so far.
 *
 * assets/canvas.js tells this script when the stroke grows (`liveReading.moved`) and when it ends
 * (`liveReading.ended`). At most one reading is in flight per page, at most one every MIN_INTERVAL
 * ms: it carries the newest strokes when it leaves, and an answer that is no longer the newest,
 * or that comes back after the pen-up, is dropped. The pen-up aborts a reading still in flight:
 * the pen-up answer (the predict callback, through Dash) is the final one. A reading is drawn
 * here, not through Dash: the live map (the same pictures as callbacks/predict.py map_children)
 * in `.live-map` over the map until the final map is drawn, and the top 3 with Plotly.react.
 *
 * Also here: a map cell's value on hover (the pictures' `data-grid`, whole percents in base64).
 */
(function () {
    const MIN_INTERVAL = 60;  // ms: ~14 readings a second where an answer takes 10-20 ms
    let latest = 0;  // the number of the newest reading sent
    let inFlight = null, timer = null, pending = null, lastSent = -Infinity, drawing = false;

    function options() {
        const holder = document.getElementById('live-options');
        try { return JSON.parse((holder && holder.dataset.options) || '{}'); } catch (e) { return {}; }
    }

    function element(tag, className, text) {
        const node = document.createElement(tag);
        if (className) node.className = className;
        if (text !== undefined) node.textContent = text;
        return node;
    }

    /* The live map's title and pictures, built once and then only given new values. */
    function liveMap() {
        const layer = document.querySelector('#map-stack .live-map');
        if (layer && !layer.firstChild) {
            const frame = element('div', 'pixel-map-frame');
            frame.append(element('img', 'pixel-map-digit'), element('img', 'pixel-map-overlay'));
            layer.append(element('div', 'pixel-map-title'), frame);
        }
        return layer;
    }

    /* Until the final map is drawn: the live map stays over it, then goes. */
    function hideWhenFinal(layer) {
        const map = document.getElementById('gradcam-figure');
        const hide = () => { layer.hidden = true; observer.disconnect(); clearTimeout(fallback); };
        // Dash marking the map as loading is not the final map.
        const observer = new MutationObserver(records => {
            if (records.some(r => r.attributeName !== 'data-dash-is-loading')) hide();
        });
        if (map) observer.observe(map, {subtree: true, childList: true, attributes: true});
        const fallback = setTimeout(hide, 5000);  // an answer identical to the one before changes nothing
    }

    function show(answer) {
        const layer = liveMap();
        if (layer) {
            layer.querySelector('.pixel-map-title').textContent = answer.title;
            const frame = layer.querySelector('.pixel-map-frame');
            frame.dataset.grid = answer.map.grid;
            frame.querySelector('.pixel-map-digit').src = answer.map.digit;
            frame.querySelector('.pixel-map-overlay').src = answer.map.overlay;
            layer.hidden = false;
        }
        const top3 = document.querySelector('#top3-chart .js-plotly-plot');
        if (top3 && window.Plotly) window.Plotly.react(top3, answer.top3.data, answer.top3.layout);
    }

    function send() {
        timer = null;
        if (!drawing || inFlight || !pending) return;
        const asked = options();
        if (!asked.live) return;
        const paths = pending();
        pending = null;
        const number = ++latest;
        const controller = new AbortController();
        inFlight = controller;
        lastSent = performance.now();
        fetch('/_live-reading', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                 body: JSON.stringify({strokes: paths, options: asked}), signal: controller.signal})
            .then(response => (response.ok ? response.json() : null))
            .then(answer => { if (answer && answer.map && drawing && number === latest) show(answer); })
            .catch(() => {})  // aborted at the pen-up, or the server away: the pen-up answer says what is wrong
            .finally(() => {
                if (inFlight === controller) { inFlight = null; schedule(); }
            });
    }

    function schedule() {
        if (timer || inFlight || !pending) return;
        timer = setTimeout(send, Math.max(0, lastSent + MIN_INTERVAL - performance.now()));
    }

    window.liveReading = {
        /* The stroke grew: `paths` gives every stroke so far, the one being drawn last. */
        moved(paths) { drawing = true; pending = paths; schedule(); },
        ended() {
            drawing = false;
            pending = null;
            clearTimeout(timer);
            timer = null;
            if (inFlight) { inFlight.abort(); inFlight = null; }
            const layer = document.querySelector('#map-stack .live-map');
            if (layer && !layer.hidden) hideWhenFinal(layer);
        },
    };

    /* Hover: the cell under the pointer and its value: the map's from its `data-grid`, the model
     * input's from its picture's grey (whole percents of ink, callbacks/figures.py input_picture). */
    let tip = null;
    const greys = new WeakMap();  // picture -> [its src, its 28x28 grey levels]

    function ink(img) {
        const known = greys.get(img);
        if (known && known[0] === img.src) return known[1];
        const canvas = document.createElement('canvas');
        canvas.width = canvas.height = 28;
        const context = canvas.getContext('2d', {willReadFrequently: true});
        context.drawImage(img, 0, 0);
        const rgba = context.getImageData(0, 0, 28, 28).data;
        const levels = Array.from({length: 784}, (_, i) => Math.round(rgba[4 * i] / 2.55));
        greys.set(img, [img.src, levels]);
        return levels;
    }

    document.addEventListener('mousemove', event => {
        const frame = event.target instanceof Element ? event.target.closest('.pixel-map-frame') : null;
        if (!frame) { if (tip) tip.hidden = true; return; }
        const box = frame.getBoundingClientRect();
        const x = Math.min(27, Math.floor((event.clientX - box.left) * 28 / box.width));
        const y = Math.min(27, Math.floor((event.clientY - box.top) * 28 / box.height));
        if (!tip) { tip = element('div', 'pixel-hover'); document.body.append(tip); }
        if (frame.dataset.grid) {
            tip.textContent = `pixel (${x}, ${y}): importance ${atob(frame.dataset.grid).charCodeAt(y * 28 + x)}%`;
        } else {
            tip.textContent = `pixel (${x}, ${y}): ${ink(frame.querySelector('img'))[y * 28 + x]}% ink`;
        }
        tip.style.left = `${event.pageX + 12}px`;
        tip.style.top = `${event.pageY + 12}px`;
        tip.hidden = false;
    });
})();
