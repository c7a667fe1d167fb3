/// <reference lib="dom" />
// A table whose column headers sort it (click again to reverse), drawing at most `limit` rows so a profile
// with tens of thousands of functions stays quick; rows can be clickable and marked selected.

import { element } from './dom.js';

export interface TableColumn<Row> {
  title: string;
  /** The sort key. */
  value: (row: Row) => number | string;
  /** What the cell shows; String(value) by default. */
  text?: (row: Row) => string;
  numeric?: boolean;
  /** Extra class of the cells, e.g. to colour a sign. */
  cellClass?: (row: Row) => string;
}

export interface TableOptions<Row> {
  id: string;
  /** Column sorted by at first; null keeps the rows' own order. */
  sortColumn: number | null;
  descending: boolean;
  limit: number;
  emptyText: string;
  onRowClick?: (row: Row) => void;
  isSelected?: (row: Row) => boolean;
}

export class SortableTable<Row> {
  readonly element: HTMLElement;
  private readonly body: HTMLTableSectionElement;
  private readonly headers: HTMLTableCellElement[];
  private readonly note: HTMLElement;
  private rows: Row[] = [];
  private sortColumn: number | null;
  private descending: boolean;

  constructor(
    private readonly columns: ReadonlyArray<TableColumn<Row>>,
    private readonly options: TableOptions<Row>,
  ) {
    this.sortColumn = options.sortColumn;
    this.descending = options.descending;
    this.headers = columns.map((column, index) => {
      const header = element('th', { text: column.title, className: `sortable${column.numeric ? ' num' : ''}` });
      header.addEventListener('click', () => this.sortBy(index));
      return header;
    });
    this.body = element('tbody');
    this.note = element('p', { className: 'table-note' });
    const table = element('table', { id: options.id }, [
      element('thead', {}, [element('tr', {}, this.headers)]),
      this.body,
    ]);
    this.element = element('div', {}, [element('div', { className: 'scroll' }, [table]), this.note]);
  }

  setRows(rows: Row[]): void {
    this.rows = rows;
    this.render();
  }

  sortBy(column: number): void {
    this.descending = this.sortColumn === column ? !this.descending : this.columns[column]!.numeric === true;
    this.sortColumn = column;
    this.render();
  }

  private sorted(): Row[] {
    if (this.sortColumn === null) return this.rows;
    const { value } = this.columns[this.sortColumn]!;
    const direction = this.descending ? -1 : 1;
    return [...this.rows].sort((a, b) => {
      const left = value(a);
      const right = value(b);
      return direction * (left < right ? -1 : left > right ? 1 : 0);
    });
  }

  private render(): void {
    this.headers.forEach((header, index) => {
      header.classList.toggle('sorted-asc', index === this.sortColumn && !this.descending);
      header.classList.toggle('sorted-desc', index === this.sortColumn && this.descending);
    });
    const shown = this.sorted().slice(0, this.options.limit);
    this.body.replaceChildren(...shown.map((row) => this.renderRow(row)));
    this.note.textContent =
      this.rows.length === 0
        ? this.options.emptyText
        : this.rows.length > shown.length
          ? `Showing ${shown.length} of ${this.rows.length} rows.`
          : '';
  }

  private renderRow(row: Row): HTMLTableRowElement {
    const cells = this.columns.map((column) => {
      const classes = [column.numeric ? 'num' : '', column.cellClass?.(row) ?? ''].filter(Boolean).join(' ');
      return element('td', { className: classes, text: column.text ? column.text(row) : String(column.value(row)) });
    });
    const tr = element('tr', {}, cells);
    if (this.options.onRowClick) {
      tr.classList.add('clickable');
      tr.addEventListener('click', () => this.options.onRowClick!(row));
    }
    if (this.options.isSelected?.(row)) tr.classList.add('selected');
    return tr;
  }
}
