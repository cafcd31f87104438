/* An image over the server's size limit is refused here, before it is read or sent: dcc.Upload would
 * read it into the page and Flask would answer 413 without a word. The limit is `data-max-bytes` on
 * #upload-limit (from the app's settings); the refusal goes to the `upload-refused` store, and the
 * server words it as the API does.
 */
(function () {
    function refused(files) {
        const holder = document.getElementById('upload-limit');
        const limit = holder ? Number(holder.dataset.maxBytes) : 0;
        const file = files && files[0];
        if (!file || !limit || file.size <= limit) return false;
        window.dash_clientside.set_props('upload-refused', {data: {name: file.name, size: file.size, at: Date.now()}});
        return true;
    }

    // Capture phase: before dcc.Upload (React) sees the file.
    document.addEventListener('change', event => {
        const input = event.target;
        if (input instanceof HTMLInputElement && input.closest('#upload') && refused(input.files)) {
            event.stopPropagation();
            input.value = '';
        }
    }, true);

    document.addEventListener('drop', event => {
        if (event.target instanceof Element && event.target.closest('#upload') && event.dataTransfer
                && refused(event.dataTransfer.files)) {
            event.preventDefault();
            event.stopPropagation();
        }
    }, true);
})();
