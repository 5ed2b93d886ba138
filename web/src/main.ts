/** The console's entry (a placeholder until the views land). */
const app = document.getElementById('app');
if (app) app.textContent = 'CSV data lake console';
