// fili ships no type declarations; this covers the part of its API the project uses.
declare module 'fili' {
  export interface BiquadCoeffs { a: number[]; b: number[]; z: number[]; k: number; }
  export interface IirDesignParams {
    order: number; characteristic: 'butterworth' | 'bessel' | 'tschebyscheff05' | 'tschebyscheff1' | 'tschebyscheff2' | 'tschebyscheff3';
    Fs: number; Fc: number; BW?: number; gain?: number; preGain?: boolean;
  }
  export class CalcCascades {
    lowpass(params: IirDesignParams): BiquadCoeffs[];
    highpass(params: IirDesignParams): BiquadCoeffs[];
    bandpass(params: IirDesignParams): BiquadCoeffs[];
    bandstop(params: IirDesignParams): BiquadCoeffs[];
    available(): string[];
  }
  export class IirFilter {
    constructor(coeffs: BiquadCoeffs[]);
    singleStep(input: number): number;
    multiStep(input: ArrayLike<number>, overwrite?: boolean): number[];
    simulate(input: ArrayLike<number>): number[];
    reinit(): void;
  }
  const Fili: { CalcCascades: typeof CalcCascades; IirFilter: typeof IirFilter };
  export default Fili;
}
