// A "Copy" button next to a read-only value (the integration key, a user id): copies the value.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  event.preventDefault();
  const done = () => {
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = "Copy"; }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(button.dataset.copy).then(done);
  } else {
    const input = button.parentElement.querySelector("input");
    input.select();
    document.execCommand("copy");
    done();
  }
});
